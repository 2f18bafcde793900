// The URL a listening server is reached at: a wildcard host (0.0.0.0, ::) is reached on loopback. Portable.
export function listeningUrl(configHost: string, port: number): string {
  const host = configHost.includes(':') ? `[${configHost}]` : configHost;
  return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
}
