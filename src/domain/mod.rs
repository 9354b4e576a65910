//! Pure business rules: money, quantities and units, products, delivery slots, the order state
//! machine, the cancel policy, pricing and membership. No I/O, no clock: time is an argument.

pub mod cancel;
pub mod chat;
pub mod customer;
pub mod events;
pub mod geo;
pub mod ids;
pub mod lang;
pub mod membership;
pub mod money;
pub mod order;
pub mod policy;
pub mod pricing;
pub mod product;
pub mod quantity;
pub mod risk;
pub mod slot;
pub mod staff;
pub mod substitute;

pub use cancel::{CancelDecision, CancelPolicy, CancelReason, CancelRefusal};
pub use chat::{Button, Reply};
pub use customer::{Customer, StockLevel, mask_phone};
pub use geo::{Depot, GeoError, LatLon, Zone, map_link};
pub use ids::{AddressId, AgentId, Channel, CourierId, CustomerId, OrderId};
pub use lang::Lang;
pub use membership::{Membership, MembershipRules, TierRule};
pub use money::Fen;
pub use order::{DeliveryAddress, Order, OrderError, OrderLine, OrderNumber, OrderStatus};
pub use policy::BusinessRules;
pub use pricing::{DeliveryPricing, PricingError, Totals};
pub use product::{Product, ProductError, Sku};
pub use quantity::{Quantity, QuantityError, Unit};
pub use risk::RiskRules;
pub use slot::{FreeSlot, Slot, SlotError, SlotRules, TZ, Window, slot_for_wish, slots_near};
pub use staff::{Duty, StaffRole};
pub use substitute::{OfferView, SubstitutionAnswer};
