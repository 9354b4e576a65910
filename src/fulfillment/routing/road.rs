//! Road network.
/// x
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("x")]
pub struct RoadError;
