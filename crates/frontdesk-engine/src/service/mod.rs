//! The service layer: input types and operations that more than one caller
//! uses — the admin API, the console and the CLI — with the rules in one
//! place. They return the engine's error; the server maps it at the edge.

pub mod audit;
pub mod bots;
pub mod channels;
pub mod conversations;
pub mod credits;
pub mod handoff;
pub mod hours;
pub mod knowledge;
pub mod leads;
pub mod login;
pub mod preview;
pub mod profile;
pub mod reports;
pub mod short_answers;
pub mod test_cases;
pub mod tickets;
pub mod tools;
pub mod users;
pub mod workflows;
