// Entry point: mounts the app, routes by path, intercepts same-origin links and loads the session.
import { render } from 'preact';
import { Layout } from './components/layout.tsx';
import { VerifyEmailBanner } from './components/verify-banner.tsx';
import { AdminOutboxPage } from './pages/admin-outbox.tsx';
import { CategoriesPage } from './pages/categories.tsx';
import { ChannelPage } from './pages/channel.tsx';
import { FollowingPage } from './pages/following.tsx';
import { HomePage } from './pages/home.tsx';
import { MyChannelsPage } from './pages/my-channels.tsx';
import { NotFoundPage } from './pages/not-found.tsx';
import { ProfilePage } from './pages/profile.tsx';
import { ResetPasswordPage } from './pages/reset-password.tsx';
import { SearchPage } from './pages/search.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { SignUpPage } from './pages/sign-up.tsx';
import { StudioPage } from './pages/studio.tsx';
import { UploadPage } from './pages/upload.tsx';
import { VerifyEmailPage } from './pages/verify-email.tsx';
import { VideosPage } from './pages/videos.tsx';
import { VodPage } from './pages/vod.tsx';
import { interceptLinks, match, useLocation } from './router.ts';
import { refreshSession } from './session.ts';

function Routes() {
  const { path } = useLocation();
  if (match('/', path)) return <HomePage />;
  if (match('/sign-in', path)) return <SignInPage />;
  if (match('/sign-up', path)) return <SignUpPage />;
  if (match('/reset-password', path)) return <ResetPasswordPage />;
  if (match('/verify-email', path)) return <VerifyEmailPage />;
  if (match('/settings', path)) return <SettingsPage />;
  if (match('/admin/outbox', path)) return <AdminOutboxPage />;
  const profile = match('/u/:id', path);
  if (profile) return <ProfilePage key={profile.id} id={profile.id!} />;
  if (match('/me/channels', path)) return <MyChannelsPage />;
  if (match('/me/following', path)) return <FollowingPage />;
  if (match('/search', path)) return <SearchPage />;
  if (match('/categories', path)) return <CategoriesPage />;
  if (match('/videos', path)) return <VideosPage />;
  const upload = match('/studio/:slug/upload', path);
  if (upload) return <UploadPage key={upload.slug} slug={upload.slug!} />;
  const studio = match('/studio/:slug', path);
  if (studio) return <StudioPage key={studio.slug} slug={studio.slug!} />;
  const vod = match('/v/:id', path);
  if (vod) return <VodPage key={vod.id} id={vod.id!} />;
  const channel = match('/c/:slug', path);
  if (channel) return <ChannelPage key={channel.slug} slug={channel.slug!} />;
  return <NotFoundPage />;
}

function App() {
  return (
    <Layout>
      <VerifyEmailBanner />
      <Routes />
    </Layout>
  );
}

interceptLinks();
void refreshSession();
render(<App />, document.getElementById('app')!);
