//! The state handlers run with: the engine (store, settings, hub, metrics,
//! the agent), shared by every request.

pub use frontdesk_engine::Engine as AppState;
