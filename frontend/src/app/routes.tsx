import { Navigate, Route, Routes } from 'react-router-dom';
import { ConfirmEmailPage } from '@/features/auth/components/ConfirmEmailPage';
import { ForgotPasswordPage } from '@/features/auth/components/ForgotPasswordPage';
import { InvitePage } from '@/features/auth/components/InvitePage';
import { LoginPage } from '@/features/auth/components/LoginPage';
import { RequireAuth } from '@/features/auth/components/RequireAuth';
import { ResetPasswordPage } from '@/features/auth/components/ResetPasswordPage';
import { SignupPage } from '@/features/auth/components/SignupPage';
import { BundleListPage } from '@/features/bundles/components/BundleListPage';
import { BundleWizardPage } from '@/features/bundles/components/wizard/BundleWizardPage';
import { ConnectionFormPage } from '@/features/connections/components/ConnectionFormPage';
import { ConnectionListPage } from '@/features/connections/components/ConnectionListPage';
import { DashboardPage } from '@/features/dashboard/components/DashboardPage';
import { HistoryPage } from '@/features/history/components/HistoryPage';
import { SettingsPage } from '@/features/settings/components/SettingsPage';
import { AppLayout } from '@/features/shell/components/AppLayout';
import { NotFoundPage } from '@/features/shell/components/NotFoundPage';

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/signup" element={<SignupPage />} />
      <Route path="/confirm-email" element={<ConfirmEmailPage />} />
      {/* The address the contract names for the e-mail link; the same page. */}
      <Route path="/signup/confirm" element={<ConfirmEmailPage />} />
      <Route path="/forgot-password" element={<ForgotPasswordPage />} />
      <Route path="/reset-password" element={<ResetPasswordPage />} />
      <Route path="/invite" element={<InvitePage />} />
      <Route
        element={
          <RequireAuth>
            <AppLayout />
          </RequireAuth>
        }
      >
        <Route index element={<DashboardPage />} />
        <Route path="bundles" element={<BundleListPage />} />
        <Route path="bundles/new" element={<Navigate to="/bundles/new/source" replace />} />
        <Route path="bundles/new/:step" element={<BundleWizardPage />} />
        <Route path="bundles/:bundleId/edit" element={<Navigate to="source" replace />} />
        <Route path="bundles/:bundleId/edit/:step" element={<BundleWizardPage />} />
        <Route path="connections" element={<ConnectionListPage />} />
        <Route path="connections/new" element={<ConnectionFormPage />} />
        <Route path="connections/:connectionId" element={<ConnectionFormPage />} />
        <Route path="history" element={<HistoryPage />} />
        <Route path="settings" element={<Navigate to="/settings/profile" replace />} />
        <Route path="settings/:tab" element={<SettingsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
