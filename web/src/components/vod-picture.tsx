// A VoD's 16:9 picture in a list (a channel's past broadcasts, the catalog's cards): its thumbnail, or — when it has
// none yet (a broadcast still recording, a transcode still making images) or the image fails to load — a tinted
// placeholder with the video's initials, as a channel card without a preview has, never a black box.
import { useEffect, useState } from 'preact/hooks';
import { hueOf, initials } from '../format.ts';

export function VodPicture({ src, title, seed, width, height }: { src: string | null | undefined; title: string; seed: string; width: number; height: number }) {
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [src]);
  if (src && !failed) return <img src={src} alt="" loading="lazy" width={width} height={height} onError={() => setFailed(true)} />;
  return (
    <span class="vod-picture-blank" style={{ '--hue': String(hueOf(seed)) }} data-testid="vod-picture-blank">
      <span class="thumb-mark">{initials(title)}</span>
    </span>
  );
}
