//! A simulated customer for measuring the conversation from the customer's side
//! (`freshbot simulate chat`, and `tests/integration/journeys.rs` in CI).
//!
//! A journey is data (`tests/journeys/`): her goal, her words, and a check on her orders at the
//! end. The simulator plays her against a running server over the web chat API only: it reads
//! each reply as she would (`reading`), answers from her goal (`customer`), and judges the end
//! state through `/api/chat/orders` (`outcome`). It never reads the bot's stored state, so a
//! bot that only says the right words cannot pass.

pub mod customer;
pub mod journey;
pub mod outcome;
pub mod reading;
pub mod report;

pub use customer::{JourneyRun, SETUP_ADDRESS, SimError, Simulator};
pub use journey::{Journey, load_dir};
pub use report::{Played, Summary, failures, markdown, summary};
