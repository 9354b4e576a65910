//! Pure fulfilment algorithms: warehouse picking, courier routing, demand forecasting and
//! replenishment. Nothing here does I/O; time, randomness and distances are arguments.

pub mod picking;
pub mod replenishment;
pub mod routing;
