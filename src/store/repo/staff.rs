//! Couriers and agents.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::store::entities::{agents, couriers};
use crate::store::{StoreError, Tx};

impl Tx {
    /// Adds a courier unless one with this phone exists. Returns whether it was added.
    pub async fn ensure_courier(
        &self,
        name: &str,
        phone: &str,
        capacity_bags: i32,
        shift: (&str, &str),
    ) -> Result<bool, StoreError> {
        if couriers::Entity::find()
            .filter(couriers::Column::Phone.eq(phone))
            .one(self.c())
            .await?
            .is_some()
        {
            return Ok(false);
        }
        couriers::Entity::insert(couriers::ActiveModel {
            name: Set(name.to_owned()),
            phone: Set(phone.to_owned()),
            telegram_user_id: Set(None),
            capacity_bags: Set(capacity_bags),
            shift_start: Set(shift.0.to_owned()),
            shift_end: Set(shift.1.to_owned()),
            active: Set(true),
            last_lat: Set(None),
            last_lon: Set(None),
            last_seen_at: Set(None),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(true)
    }

    /// Adds an agent unless the username exists. Returns whether it was added.
    pub async fn ensure_agent(
        &self,
        username: &str,
        display_name: &str,
        password_hash: Option<String>,
        role: crate::domain::StaffRole,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        if agents::Entity::find()
            .filter(agents::Column::Username.eq(username))
            .one(self.c())
            .await?
            .is_some()
        {
            return Ok(false);
        }
        agents::Entity::insert(agents::ActiveModel {
            username: Set(username.to_owned()),
            display_name: Set(display_name.to_owned()),
            password_hash: Set(password_hash),
            active: Set(true),
            created_at: Set(now),
            role: Set(role.code().to_owned()),
            ..Default::default()
        })
        .exec_without_returning(self.c())
        .await?;
        Ok(true)
    }
}
