//! Customers, their channel identities and addresses.

use super::OneRow;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use crate::domain::{AddressId, Channel, Customer, CustomerId, DeliveryAddress, Lang, LatLon};
use crate::store::entities::{addresses, channel_identities, customers};
use crate::store::inline_sqlite::Inline;
use crate::store::{StoreError, Tx};

fn customer_from_row(r: customers::Model) -> Customer {
    Customer {
        id: CustomerId(r.id),
        name: r.name,
        phone: r.phone,
        lang: Lang::from_tag(&r.lang).unwrap_or_default(),
        default_address: r.default_address_id.map(AddressId),
    }
}

fn address_from_row(r: addresses::Model) -> DeliveryAddress {
    DeliveryAddress {
        id: Some(AddressId(r.id)),
        text: r.text,
        location: r.lat.zip(r.lon).map(|(lat, lon)| LatLon { lat, lon }),
        zone: r.zone.unwrap_or_default(),
    }
}

fn identity_row(channel: Channel, external_id: &str) -> Select<channel_identities::Entity> {
    channel_identities::Entity::find()
        .filter(channel_identities::Column::Channel.eq(channel.code()))
        .filter(channel_identities::Column::ExternalId.eq(external_id))
}

/// Newest first.
fn addresses_of(customer: CustomerId) -> Select<addresses::Entity> {
    addresses::Entity::find()
        .filter(addresses::Column::CustomerId.eq(customer.0))
        .order_by_desc(addresses::Column::Id)
}

impl Tx {
    pub async fn customer_by_identity(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> Result<Option<Customer>, StoreError> {
        let Some(identity) = identity_row(channel, external_id).one_row(self.c()).await? else {
            return Ok(None);
        };
        self.customer(CustomerId(identity.customer_id)).await
    }

    pub async fn customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        Ok(customers::Entity::find_by_id(id.0)
            .one_row(self.c())
            .await?
            .map(customer_from_row))
    }

    /// Creates a customer with one channel identity. Returns `None` if another request created
    /// the same identity first (the caller then reads it back); nothing is left behind then,
    /// and the transaction stays usable (no unique violation, which would end a PostgreSQL
    /// transaction).
    pub async fn create_customer(
        &self,
        channel: Channel,
        external_id: &str,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> Result<Option<Customer>, StoreError> {
        let row = customers::Entity::insert(customers::ActiveModel {
            name: Set(None),
            phone: Set(None),
            lang: Set(lang.code().to_owned()),
            default_address_id: Set(None),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_with_returning(self.c())
        .await?;
        if self
            .link_identity(CustomerId(row.id), channel, external_id, now)
            .await?
        {
            return Ok(Some(customer_from_row(row)));
        }
        customers::Entity::delete_by_id(row.id)
            .exec(self.c())
            .await?;
        Ok(None)
    }

    /// Creates the customer behind a channel identity unless there is one: a first-contact
    /// chat turn does it in the transaction that saves its state (see `TurnWrite`).
    pub async fn ensure_customer(
        &self,
        channel: Channel,
        external_id: &str,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if self
            .customer_by_identity(channel, external_id)
            .await?
            .is_none()
        {
            // `None`: another instance created it since the read, which is as good.
            self.create_customer(channel, external_id, lang, now)
                .await?;
        }
        Ok(())
    }

    pub async fn set_customer_lang(&self, id: CustomerId, lang: Lang) -> Result<(), StoreError> {
        customers::Entity::update_many()
            .col_expr(customers::Column::Lang, lang.code().into())
            .filter(customers::Column::Id.eq(id.0))
            .exec(self.c())
            .await?;
        Ok(())
    }

    pub async fn insert_address(
        &self,
        customer: CustomerId,
        text: &str,
        location: Option<LatLon>,
        zone: &str,
        now: DateTime<Utc>,
    ) -> Result<AddressId, StoreError> {
        let row = addresses::Entity::insert(addresses::ActiveModel {
            customer_id: Set(customer.0),
            text: Set(text.to_owned()),
            lat: Set(location.map(|l| l.lat)),
            lon: Set(location.map(|l| l.lon)),
            zone: Set(Some(zone.to_owned())),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_with_returning(self.c())
        .await?;
        customers::Entity::update_many()
            .col_expr(customers::Column::DefaultAddressId, row.id.into())
            .filter(customers::Column::Id.eq(customer.0))
            .exec(self.c())
            .await?;
        Ok(AddressId(row.id))
    }

    /// An address of this customer (someone else's address id gives `None`).
    pub async fn address_of(
        &self,
        customer: CustomerId,
        id: AddressId,
    ) -> Result<Option<DeliveryAddress>, StoreError> {
        Ok(addresses::Entity::find_by_id(id.0)
            .filter(addresses::Column::CustomerId.eq(customer.0))
            .one(self.c())
            .await?
            .map(address_from_row))
    }

    /// The customer's addresses, newest first.
    pub async fn addresses_of(
        &self,
        customer: CustomerId,
    ) -> Result<Vec<DeliveryAddress>, StoreError> {
        Ok(addresses_of(customer)
            .all(self.c())
            .await?
            .into_iter()
            .map(address_from_row)
            .collect())
    }
}

impl Tx {
    /// Every channel a customer has talked to freshbot through, with the channel's user id.
    pub async fn identities_of(
        &self,
        customer: CustomerId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(channel_identities::Entity::find()
            .filter(channel_identities::Column::CustomerId.eq(customer.0))
            .order_by_asc(channel_identities::Column::Id)
            .all(self.c())
            .await?
            .into_iter()
            .map(|i| (i.channel, i.external_id))
            .collect())
    }
}

impl Tx {
    /// Gives an existing customer one more channel identity (the same person on another
    /// channel). Returns `false` if that identity already belongs to someone.
    pub async fn link_identity(
        &self,
        customer: CustomerId,
        channel: Channel,
        external_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let r = channel_identities::Entity::insert(channel_identities::ActiveModel {
            customer_id: Set(customer.0),
            channel: Set(channel.code().to_owned()),
            external_id: Set(external_id.to_owned()),
            created_at: Set(now),
            ..Default::default()
        })
        // On the identity's own unique key (`on_conflict_do_nothing` alone covers the primary
        // key only, and a violation would end a PostgreSQL transaction).
        .on_conflict_do_nothing_on([
            channel_identities::Column::Channel,
            channel_identities::Column::ExternalId,
        ])
        .exec_without_returning(self.c())
        .await?;
        Ok(matches!(r, sea_orm::TryInsertResult::Inserted(n) if n > 0))
    }
}

/// The same reads on the inline SQLite path of a chat turn.
impl Inline<'_> {
    pub(crate) fn customer_by_identity(
        &self,
        channel: Channel,
        external_id: &str,
    ) -> Result<Option<Customer>, StoreError> {
        let Some(identity) = self.all(identity_row(channel, external_id))?.pop() else {
            return Ok(None);
        };
        Ok(self
            .all(customers::Entity::find_by_id(identity.customer_id))?
            .pop()
            .map(customer_from_row))
    }

    pub(crate) fn addresses_of(
        &self,
        customer: CustomerId,
    ) -> Result<Vec<DeliveryAddress>, StoreError> {
        Ok(self
            .all(addresses_of(customer))?
            .into_iter()
            .map(address_from_row)
            .collect())
    }
}
