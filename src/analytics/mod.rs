//! Measurement: what helps operators cut cancellations. Pure rules and statistics; the service
//! layer feeds them from the database.

pub mod risk;
