// The page frame: header (wordmark, navigation and search — behind a menu button on phones — and the user menu or
// sign-in links), main content and footer.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../api.ts';
import { authHref } from '../pages/auth-common.ts';
import { navigate, useLocation } from '../router.ts';
import { signOut, useSession } from '../session.ts';
import { LivePill } from './live-pill.tsx';
import { NotificationBell } from './notification-bell.tsx';
import { SearchBox } from './search-box.tsx';

function Logo() {
  return (
    <a class="logo" href="/" aria-label="Glint home" data-testid="logo">
      <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
        <rect width="32" height="32" rx="8" fill="var(--accent)" />
        <path d="M12 9l11 7-11 7z" fill="#fff" />
      </svg>
      <span class="wordmark">Glint</span>
    </a>
  );
}

function NavLink({ href, children, testid }: { href: string; children: ComponentChildren; testid: string }) {
  const { path } = useLocation();
  const active = href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
  return (
    <a href={href} class={`nav-link${active ? ' active' : ''}`} aria-current={active ? 'page' : undefined} data-testid={testid}>
      {children}
    </a>
  );
}

export function RoleBadge({ role }: { role: User['role'] }) {
  return (
    <span class={`role role-${role}`} data-testid="role-badge">
      {role}
    </span>
  );
}

/** While `open`: Escape calls `onEscape`, a click outside `ref` calls `onOutside` (menus and popups of the header). */
function useDismiss(open: boolean, ref: { current: Element | null }, onEscape: () => void, onOutside: () => void) {
  useEffect(() => {
    if (!open) return;
    const onClick = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) onOutside();
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onEscape();
    };
    document.addEventListener('click', onClick);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('click', onClick);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);
}

function UserMenu({ user }: { user: User }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLDivElement>(null);
  const { path } = useLocation();

  useEffect(() => setOpen(false), [path]);
  useDismiss(open, ref, () => {
    setOpen(false);
    ref.current?.querySelector<HTMLButtonElement>('.user-button')?.focus();
  }, () => setOpen(false));

  const doSignOut = async () => {
    setError(null);
    try {
      await signOut();
      navigate('/');
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Could not sign out.');
    }
  };

  return (
    <div class="user-menu" ref={ref}>
      <button
        type="button"
        class="user-button"
        aria-haspopup="true"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        data-testid="user-menu"
      >
        <span class="user-dot" aria-hidden="true">
          {[...user.name][0]?.toUpperCase() ?? '?'}
        </span>
        <span class="user-name" data-testid="user-name">
          {user.name}
        </span>
        <RoleBadge role={user.role} />
        <svg viewBox="0 0 20 20" width="14" height="14" aria-hidden="true" class="caret">
          <path d="M5 7l5 6 5-6z" fill="currentColor" />
        </svg>
      </button>
      {open && (
        <div class="menu" role="menu" data-testid="user-menu-panel">
          <div class="menu-head">
            <strong>{user.name}</strong>
            <span class="muted">{user.email}</span>
          </div>
          <a role="menuitem" href="/me/channels" class="menu-item">
            My channels
          </a>
          <a role="menuitem" href={`/u/${user.id}`} class="menu-item">
            Profile
          </a>
          <a role="menuitem" href="/settings" class="menu-item" data-testid="nav-settings">
            Settings
          </a>
          <a role="menuitem" href="/api/docs" class="menu-item">
            API reference
          </a>
          <button type="button" role="menuitem" class="menu-item danger" onClick={doSignOut} data-testid="sign-out">
            Sign out
          </button>
          {error && (
            <p class="menu-error" role="alert">
              {error}
            </p>
          )}
        </div>
      )}
    </div>
  );
}

/**
 * The header. Wide: wordmark, navigation, search and the account's end in one row. Narrow (under 900 px, the
 * stylesheet decides): wordmark, account and a menu button; navigation and search move into the menu it opens.
 */
function Header() {
  const { status, user } = useSession();
  const { path, search } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const ref = useRef<HTMLElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);

  useEffect(() => setMenuOpen(false), [path, search.toString()]);
  useDismiss(menuOpen, ref, () => {
    setMenuOpen(false);
    toggle.current?.focus();
  }, () => setMenuOpen(false));

  // sign-in and sign-up come back here afterwards (not to themselves)
  const here = path === '/sign-in' || path === '/sign-up' ? search.get('next') : path + (search.size ? `?${search}` : '');
  return (
    <header class="site-header" ref={ref}>
      <div class="container header-inner">
        <Logo />
        {/* before the menu it opens, so that Tab goes from the button into the menu */}
        <button
          type="button"
          ref={toggle}
          class="btn btn-ghost menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="site-menu"
          aria-label={menuOpen ? 'Close menu' : 'Menu'}
          onClick={() => setMenuOpen(!menuOpen)}
          data-testid="menu-toggle"
        >
          <svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">
            {menuOpen ? (
              <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
            ) : (
              <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
            )}
          </svg>
        </button>
        <div id="site-menu" class={`header-menu${menuOpen ? ' open' : ''}`} data-testid="site-menu">
          <nav class="nav" aria-label="Main">
            <NavLink href="/" testid="nav-home">
              Home
            </NavLink>
            <NavLink href="/categories" testid="nav-categories">
              Browse
            </NavLink>
            <NavLink href="/videos" testid="nav-videos">
              Videos
            </NavLink>
            {user && (
              <NavLink href="/me/following" testid="nav-following">
                Following
              </NavLink>
            )}
            {user && (
              <NavLink href="/me/channels" testid="nav-my-channels">
                My channels
              </NavLink>
            )}
          </nav>
          <SearchBox />
        </div>
        <div class="header-end">
          <LivePill />
          {status === 'loading' ? null : user ? (
            <>
              <NotificationBell userId={user.id} />
              <UserMenu user={user} />
            </>
          ) : (
            <>
              <a href={authHref('/sign-in', here)} class="btn btn-ghost" data-testid="nav-sign-in">
                Sign in
              </a>
              <a href={authHref('/sign-up', here)} class="btn btn-primary" data-testid="nav-sign-up">
                Sign up
              </a>
            </>
          )}
        </div>
      </div>
    </header>
  );
}

function Footer() {
  return (
    <footer class="site-footer">
      <div class="container footer-inner">
        <span>Glint · self-hosted live streaming</span>
        <a href="/api/docs" data-testid="api-docs-link">
          API reference
        </a>
      </div>
    </footer>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" class="container main" tabIndex={-1}>
        {children}
      </main>
      <Footer />
    </>
  );
}
