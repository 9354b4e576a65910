//! Customers: who is writing, and where they want their groceries.

use crate::domain::{Channel, Customer, DeliveryAddress, Lang, LatLon, geo};
use crate::services::{SavedWith, ServiceError, Services, StateSave};
use crate::store::Tx;

impl Services {
    /// The customer behind a channel identity, created on first contact.
    #[tracing::instrument(skip(self))]
    pub async fn identify(
        &self,
        channel: Channel,
        external_id: &str,
        lang: Lang,
    ) -> Result<Customer, ServiceError> {
        // Every turn asks this; only the first contact writes. A read first keeps the common
        // case off the (on SQLite, single) writer queue.
        {
            let tx = self.store.begin_read().await?;
            if let Some(c) = tx.customer_by_identity(channel, external_id).await? {
                return Ok(c);
            }
        }
        let now = self.now();
        for _ in 0..3 {
            let tx = self.store.begin_write().await?;
            if let Some(c) = tx.customer_by_identity(channel, external_id).await? {
                return Ok(c);
            }
            if let Some(c) = tx.create_customer(channel, external_id, lang, now).await? {
                tx.commit().await?;
                return Ok(c);
            }
            // Lost a creation race with another instance: read the winner's row.
        }
        Err(ServiceError::Concurrent)
    }

    pub async fn set_language(&self, customer: &Customer, lang: Lang) -> Result<(), ServiceError> {
        let tx = self.store.begin_write().await?;
        tx.set_customer_lang(customer.id, lang).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves a delivery address. A location must be within the delivery radius; without one,
    /// the text must name a district we serve. The new address becomes the default.
    #[tracing::instrument(skip(self))]
    pub async fn add_address(
        &self,
        customer: &Customer,
        text: &str,
        location: Option<LatLon>,
    ) -> Result<DeliveryAddress, ServiceError> {
        self.in_write(async |tx| self.add_address_in(tx, customer, text, location).await)
            .await
    }

    /// [`Services::add_address`] for a chat turn whose dialog state must be saved first: both
    /// in one transaction (see [`Services::begin_with_state`]).
    pub async fn add_address_saving_state(
        &self,
        save: &StateSave<'_>,
        customer: &Customer,
        text: &str,
        location: Option<LatLon>,
    ) -> Result<SavedWith<DeliveryAddress>, ServiceError> {
        self.with_state(save, customer.id, async |tx| {
            self.add_address_in(tx, customer, text, location).await
        })
        .await
    }

    async fn add_address_in(
        &self,
        tx: &Tx,
        customer: &Customer,
        text: &str,
        location: Option<LatLon>,
    ) -> Result<DeliveryAddress, ServiceError> {
        let text = text.trim();
        if text.is_empty() && location.is_none() {
            return Err(ServiceError::UnknownAddress("the address is empty".into()));
        }
        if text.chars().count() > 200 {
            return Err(ServiceError::UnknownAddress(
                "the address is longer than 200 characters".into(),
            ));
        }
        let zones = tx.zones().await?;
        let zone = match location {
            Some(p) => {
                self.rules.depot.check_in_range(p)?;
                geo::zone_for(&zones, p)
            }
            None => geo::zone_named_in(&zones, text),
        }
        .ok_or_else(|| {
            ServiceError::UnknownAddress(format!("{text} is not in a district we deliver to"))
        })?
        .code
        .clone();
        let shown = if text.is_empty() {
            location
                .map(|p| format!("{:.5},{:.5}", p.lat, p.lon))
                .unwrap_or_default()
        } else {
            text.to_owned()
        };
        let id = tx
            .insert_address(customer.id, &shown, location, &zone, self.now())
            .await?;
        Ok(DeliveryAddress {
            id: Some(id),
            text: shown,
            location,
            zone,
        })
    }

    pub async fn addresses(
        &self,
        customer: &Customer,
    ) -> Result<Vec<DeliveryAddress>, ServiceError> {
        let tx = self.store.begin_read().await?;
        Ok(tx.addresses_of(customer.id).await?)
    }
}
