//! The one permission check every route goes through (I2).

use crate::model::Role;
use serde::Serialize;

/// What a route needs. Public routes (widget, chat API, health) need none and
/// are not listed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Any signed-in user: their own profile, availability, logout.
    Authenticated,
    /// Read conversations and contacts.
    ViewConversations,
    /// Reply to, assign and close conversations.
    HandleConversations,
    /// Read the agent's configuration and content.
    ViewAgent,
    /// Edit the agent, its content and handoff ("customer agent editor", paid seat).
    EditAgent,
    /// Read the audit log.
    ViewAudit,
    /// Read reports.
    ViewReports,
    /// Manage users, teams and API keys.
    ManageUsers,
    /// Inspect and retry background jobs.
    ManageJobs,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::Authenticated,
        Permission::ViewConversations,
        Permission::HandleConversations,
        Permission::ViewAgent,
        Permission::EditAgent,
        Permission::ViewAudit,
        Permission::ViewReports,
        Permission::ManageUsers,
        Permission::ManageJobs,
    ];
}

/// Whether a user with `role` (and a paid seat or not) may do `perm`.
pub fn allows(role: Role, paid_seat: bool, perm: Permission) -> bool {
    use Permission::*;
    match perm {
        Authenticated | ViewReports => true,
        ViewConversations | ViewAgent => role != Role::Viewer,
        HandleConversations => role != Role::Viewer && paid_seat,
        EditAgent => matches!(role, Role::Admin | Role::Editor) && paid_seat,
        ViewAudit => matches!(role, Role::Admin | Role::Editor),
        ManageUsers | ManageJobs => role == Role::Admin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_the_agent_needs_editor_role_and_a_seat() {
        assert!(allows(Role::Editor, true, Permission::EditAgent));
        assert!(!allows(Role::Editor, false, Permission::EditAgent));
        assert!(!allows(Role::Agent, true, Permission::EditAgent));
        assert!(allows(Role::Admin, true, Permission::EditAgent));
    }

    #[test]
    fn viewers_see_reports_only() {
        for p in Permission::ALL {
            let expected = matches!(p, Permission::Authenticated | Permission::ViewReports);
            assert_eq!(allows(Role::Viewer, true, *p), expected, "{p:?}");
        }
    }

    #[test]
    fn only_admins_manage_users() {
        for r in Role::ALL {
            assert_eq!(allows(*r, true, Permission::ManageUsers), *r == Role::Admin);
        }
    }
}
