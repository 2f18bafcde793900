// The header's notification bell: unread count, the inbox in a panel (newest first, each entry a link to the channel,
// "Mark all read"), and new entries as they happen — the user's Socket.IO room receives every go-live of a followed
// channel while any of their tabs is open (on the page's one socket, web/src/socket.ts). Opening the panel marks what
// it lists read (they stay marked new until it closes, so one sees which they were); a new entry shows as a toast in
// the corner of the window, clear of the navigation.
import { useEffect, useRef, useState } from 'preact/hooks';
import { createPortal } from 'preact/compat';
import { api, type Notification } from '../api.ts';
import { timeAgo } from '../format.ts';
import { holdSocket } from '../socket.ts';

export function NotificationBell({ userId }: { userId: string }) {
  const [items, setItems] = useState<Notification[]>([]);
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [flash, setFlash] = useState<Notification | null>(null);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const load = () =>
      api.notifications().then((inbox) => {
        setItems(inbox.items);
        setUnread(inbox.unread);
      }, () => undefined);
    void load();
    // the page's socket, which the chat panel may be using too; the user's room holds it from each connect on, so
    // what arrived before that (between the fetch and the connect, or while it was away) is fetched again then
    const { socket, release } = holdSocket(userId);
    socket.on('connect', load);
    const onNotification = (n: Notification) => {
      setItems((list) => [n, ...list.filter((m) => m.id !== n.id)].slice(0, 50));
      setUnread((u) => u + 1);
      setFlash(n);
    };
    socket.on('notification', onNotification);
    return () => {
      socket.off('notification', onNotification);
      socket.off('connect', load);
      release();
    };
  }, [userId]);

  useEffect(() => {
    if (!flash) return;
    const t = setTimeout(() => setFlash(null), 8000);
    return () => clearTimeout(t);
  }, [flash]);

  useEffect(() => {
    if (!open) return;
    const onClick = (e: MouseEvent) => {
      if (ref.current?.contains(e.target as Node)) return;
      setOpen(false);
      setItems((list) => list.map((n) => ({ ...n, read: true })));
    };
    document.addEventListener('click', onClick);
    return () => document.removeEventListener('click', onClick);
  }, [open]);

  const readAll = async () => {
    await api.readAllNotifications().catch(() => undefined);
    setItems((list) => list.map((n) => ({ ...n, read: true })));
    setUnread(0);
  };
  const toggle = () => {
    if (open) {
      setOpen(false);
      setItems((list) => list.map((n) => ({ ...n, read: true })));
      return;
    }
    setOpen(true);
    setFlash(null);
    if (unread > 0) {
      setUnread(0);
      void api.readAllNotifications().then((r) => setUnread(r.unread), () => undefined);
    }
  };
  const readOne = (n: Notification) => {
    if (n.read) return;
    void api.readNotification(n.id).then((r) => setUnread(r.unread), () => undefined);
    setItems((list) => list.map((m) => (m.id === n.id ? { ...m, read: true } : m)));
  };

  return (
    <div class="bell" ref={ref}>
      <button type="button" class="btn btn-ghost bell-button" aria-label={`Notifications (${unread} unread)`} aria-expanded={open} onClick={toggle} data-testid="notification-bell">
        <svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
          <path d="M10 2a5 5 0 0 0-5 5v3l-2 3h14l-2-3V7a5 5 0 0 0-5-5zm-2 13a2 2 0 0 0 4 0" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round" />
        </svg>
        {unread > 0 && (
          <span class="bell-count" data-testid="notification-count">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </button>
      {/* in the page's body: the header's backdrop filter would make the header the toast's containing block */}
      {flash &&
        !open &&
        flash.channel &&
        createPortal(
          <div class="bell-flash" role="status">
            <a href={`/c/${flash.channel.slug}`} onClick={() => readOne(flash)} data-testid="notification-flash">
              <strong>{flash.channel.title}</strong> is live now
            </a>
            <button type="button" class="btn btn-ghost btn-sm bell-flash-close" aria-label="Dismiss" onClick={() => setFlash(null)}>
              ×
            </button>
          </div>,
          document.body,
        )}
      {open && (
        <div class="menu bell-panel" role="dialog" aria-label="Notifications" data-testid="notification-panel">
          <div class="menu-head bell-head">
            <strong>Notifications</strong>
            <button type="button" class="btn btn-ghost btn-sm" disabled={unread === 0} onClick={readAll} data-testid="notifications-read-all">
              Mark all read
            </button>
          </div>
          {items.length === 0 ? (
            <p class="muted small bell-empty">Nothing yet. Follow channels to hear when they go live.</p>
          ) : (
            <ul class="bell-list">
              {items.map((n) => (
                <li key={n.id} class={n.read ? 'read' : 'unread'} data-testid="notification">
                  <a href={n.channel ? `/c/${n.channel.slug}` : '#'} onClick={() => readOne(n)}>
                    <strong>{n.channel?.title ?? 'A channel'}</strong> went live
                    <span class="muted small"> · {timeAgo(n.createdAt)}</span>
                  </a>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
