// A thin HTTP proxy in front of s3rver (itself a stand-in for MinIO/S3) that adds the two multipart calls s3rver 3.7
// lacks and @tus/s3-store needs: ListParts (GET ?uploadId=…), answered from the UploadPart requests it forwarded, and
// AbortMultipartUpload (DELETE ?uploadId=…). A fake of those two calls only: every other request is s3rver's.
import http from 'node:http';

type Part = { number: number; etag: string; size: number };

/** Starts the shim on a loopback port in front of `upstream` (host:port); resolves to its origin and a close. */
export async function s3MultipartShim(upstream: string): Promise<{ origin: string; close(): Promise<void> }> {
  const parts = new Map<string, Map<number, Part>>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shim');
    const uploadId = url.searchParams.get('uploadId');
    if (uploadId && req.method === 'GET') {
      const list = [...(parts.get(uploadId)?.values() ?? [])].sort((a, b) => a.number - b.number);
      const xml =
        `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><UploadId>${uploadId}</UploadId><IsTruncated>false</IsTruncated>` +
        list.map((p) => `<Part><PartNumber>${p.number}</PartNumber><ETag>${p.etag}</ETag><Size>${p.size}</Size></Part>`).join('') +
        '</ListPartsResult>';
      res.writeHead(200, { 'content-type': 'application/xml' }).end(xml);
      req.resume();
      return;
    }
    if (uploadId && req.method === 'DELETE') {
      parts.delete(uploadId);
      res.writeHead(204).end();
      req.resume();
      return;
    }
    const [host, port] = upstream.split(':');
    const forward = http.request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (up) => {
      const partNumber = Number(url.searchParams.get('partNumber'));
      if (uploadId && req.method === 'PUT' && partNumber && up.statusCode === 200) {
        const byId = parts.get(uploadId) ?? new Map<number, Part>();
        byId.set(partNumber, { number: partNumber, etag: String(up.headers.etag ?? ''), size: Number(req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'] ?? 0) });
        parts.set(uploadId, byId);
      }
      if (uploadId && req.method === 'POST' && up.statusCode === 200) parts.delete(uploadId); // completed
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.once('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
