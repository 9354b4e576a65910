//! Storage: sea-orm entities and repositories. The only module that imports sea-orm.

use sea_orm::{Database, DatabaseConnection};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or a query failed.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

#[derive(Clone)]
pub struct Store {
    pub db: DatabaseConnection,
}

impl Store {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let db = Database::connect(url).await?;
        Ok(Self { db })
    }
}
