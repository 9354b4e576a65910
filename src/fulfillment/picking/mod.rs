//! Warehouse picking: the layout, pick paths, order batching and the mis-pick check.
//!
//! The warehouse is a single block: parallel aisles joined by a front and a back cross aisle,
//! with the depot (where pickers start and drop their totes) in front of the front cross
//! aisle. Pickers walk the aisle centre lines and pick from both sides.
//!
//! * [`layout`]: the configuration type (aisles, depot, product locations, zones).
//! * [`heuristics`]: S-shape and largest-gap routes, the paths pickers find easy to follow.
//! * [`optimal`]: the shortest route by Ratliff and Rosenthal's dynamic programme.
//! * [`route`]: one entry point that computes all three and keeps the shortest.
//! * [`batching`]: grouping orders into batches per zone under the picker's capacity.
//! * [`mispick`]: the check run on every scan while picking.
//! * [`benchmark_formats`]: parsers for the public order-batching instances used in benchmarks.

pub mod batching;
pub mod benchmark_formats;
pub mod heuristics;
pub mod layout;
pub mod mispick;
pub mod optimal;
pub mod route;

pub use batching::{
    Batch, BatchingError, CustomerOrder, PickOrder, batch_by_savings, batch_fcfs, plan_waves,
};
pub use layout::{Depot, LayoutError, Location, PickPoint, WarehouseLayout};
pub use mispick::{ExpectedLine, ScanOutcome, check_scan};
pub use route::{Route, RoutingMethod, best_route, route_with};
