//! Startup: build the application from settings; used by `main` and by tests alike.

use crate::config::Settings;
use crate::store::Store;

/// A built, not yet running freshbot.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
}

impl Application {
    pub async fn build(settings: Settings, demo: bool) -> anyhow::Result<Self> {
        let store = Store::connect(&settings.database_url()?).await?;
        if demo {
            crate::demo::load(&store, &settings).await?;
        }
        let listener = tokio::net::TcpListener::bind(&settings.bind).await?;
        let router = crate::http::router(crate::http::AppState { store });
        Ok(Self { listener, router })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "listening");
        axum::serve(self.listener, self.router).await?;
        Ok(())
    }
}
