import { Navigate, Route, Routes } from 'react-router-dom';
import { LoginPage } from '@/features/auth/components/LoginPage';
import { RequireAuth } from '@/features/auth/components/RequireAuth';
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
        <Route path="settings" element={<Navigate to="/settings/api-keys" replace />} />
        <Route path="settings/:tab" element={<SettingsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
