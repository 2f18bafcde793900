// The page frame: header (wordmark, navigation, user menu or sign-in links), main content and footer.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { User } from '../api.ts';
import { authHref } from '../pages/auth-common.ts';
import { navigate, useLocation } from '../router.ts';
import { signOut, useSession } from '../session.ts';
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

function UserMenu({ user }: { user: User }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLDivElement>(null);
  const { path } = useLocation();

  useEffect(() => setOpen(false), [path]);
  useEffect(() => {
    if (!open) return;
    const onClick = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        ref.current?.querySelector<HTMLButtonElement>('.user-button')?.focus();
      }
    };
    document.addEventListener('click', onClick);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('click', onClick);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

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

function Header() {
  const { status, user } = useSession();
  const { path, search } = useLocation();
  // sign-in and sign-up come back here afterwards (not to themselves)
  const here = path === '/sign-in' || path === '/sign-up' ? search.get('next') : path + (search.size ? `?${search}` : '');
  return (
    <header class="site-header">
      <div class="container header-inner">
        <Logo />
        <nav class="nav" aria-label="Main">
          <NavLink href="/" testid="nav-home">
            Home
          </NavLink>
          <NavLink href="/categories" testid="nav-categories">
            Browse
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
        <div class="header-end">
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
