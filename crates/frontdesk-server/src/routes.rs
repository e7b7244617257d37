//! Every route, with what it needs, in one table. The router is built from
//! the table, so a route cannot exist without its access rule, and the
//! permission test walks the same table.

use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use frontdesk_core::permissions::Permission;

use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, widget, docs, login.
    Public,
    /// A visitor holding the conversation's token (checked by the handler,
    /// which answers 404 for any other conversation).
    Visitor,
    /// A signed-in user or API key with this permission.
    User(Permission),
}

#[derive(Debug, Clone)]
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// Collects routes and their definitions.
pub struct Routes {
    state: AppState,
    router: Router<AppState>,
    defs: Vec<RouteDef>,
}

fn filter(method: &Method) -> MethodFilter {
    match *method {
        Method::GET => MethodFilter::GET,
        Method::POST => MethodFilter::POST,
        Method::PUT => MethodFilter::PUT,
        Method::PATCH => MethodFilter::PATCH,
        Method::DELETE => MethodFilter::DELETE,
        _ => unreachable!("only GET, POST, PUT, PATCH and DELETE routes are declared"),
    }
}

impl Routes {
    pub fn new(state: AppState) -> Self {
        Self { state, router: Router::new(), defs: Vec::new() }
    }

    /// Adds `handler` at `method path` behind `access`.
    pub fn add<H, T>(mut self, method: Method, path: &'static str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        let mut mr: MethodRouter<AppState> = on(filter(&method), handler);
        if let Access::User(perm) = access {
            mr = mr.route_layer(axum::middleware::from_fn_with_state((self.state.clone(), perm), crate::auth::require));
        }
        self.router = self.router.route(path, mr);
        self.defs.push(RouteDef { method, path, access });
        self
    }

    /// Like [`Routes::add`], for a route whose body may be up to `max_body` bytes (uploads).
    pub fn add_large<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        max_body: usize,
        handler: H,
    ) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        let mut mr: MethodRouter<AppState> =
            on(filter(&method), handler).layer(axum::extract::DefaultBodyLimit::max(max_body));
        if let Access::User(perm) = access {
            mr = mr.route_layer(axum::middleware::from_fn_with_state((self.state.clone(), perm), crate::auth::require));
        }
        self.router = self.router.route(path, mr);
        self.defs.push(RouteDef { method, path, access });
        self
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn defs(&self) -> &[RouteDef] {
        &self.defs
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteDef>) {
        (self.router, self.defs)
    }
}

/// Every route of the product.
pub fn all(state: AppState) -> Routes {
    let r = Routes::new(state);
    let r = crate::api::public_routes(r);
    let r = crate::api::chat::routes(r);
    let r = crate::api::admin::routes(r);
    let r = crate::api::knowledge::routes(r);
    let r = crate::api::agent::routes(r);
    let r = crate::api::handoff::routes(r);
    let r = crate::api::tools::routes(r);
    let r = crate::api::credits::routes(r);
    let r = crate::api::hours::routes(r);
    let r = crate::api::leads::routes(r);
    let r = crate::api::workflows::routes(r);
    let r = crate::api::tickets::routes(r);
    let r = crate::api::channels::routes(r);
    let r = crate::webhooks::email::routes(r);
    let r = crate::webhooks::meta::routes(r);
    let r = crate::webhooks::custom::routes(r);
    let r = crate::api::bots::routes(r);
    let r = crate::api::reports::routes(r);
    crate::console::routes(r)
}
