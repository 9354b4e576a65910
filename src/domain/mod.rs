//! Pure business rules: money, quantities and units, products, delivery slots, the order state
//! machine, the cancel policy, pricing and membership. No I/O, no clock: time is an argument.

pub mod policy;
