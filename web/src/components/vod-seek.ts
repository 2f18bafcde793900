// Seeking the VoD page's player from outside it (a chapter link): a window event the player listens to, so the page
// and the player stay apart (as live-player.tsx's requestRewind does for the channel page).
import type { RefObject } from 'preact';
import { useEffect } from 'preact/hooks';

const SEEK_EVENT = 'glint:vod-seek';

/** Asks the page's VoD player to play from `seconds`. */
export function requestSeek(seconds: number): void {
  window.dispatchEvent(new CustomEvent<number>(SEEK_EVENT, { detail: seconds }));
}

/** Makes `video` follow requestSeek: it jumps there and plays. */
export function useSeekRequests(video: RefObject<HTMLVideoElement | null>): void {
  useEffect(() => {
    const seek = (e: Event) => {
      const el = video.current;
      const at = (e as CustomEvent<number>).detail;
      if (!el || !Number.isFinite(at)) return;
      el.currentTime = at;
      void el.play().catch(() => undefined); // a browser that refuses autoplay leaves it paused there
    };
    window.addEventListener(SEEK_EVENT, seek);
    return () => window.removeEventListener(SEEK_EVENT, seek);
  }, []);
}
