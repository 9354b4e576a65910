//! The web channel's outbound side: a push is stored in the database first (so it survives a
//! restart and reaches a socket held by any instance), then this instance's `/ws/chat` sockets
//! of that user are woken through the in-process [`WebHub`]. Sockets also re-read the table
//! every couple of seconds, which is how pushes stored by other instances arrive.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, watch};

use crate::channels::{SendError, Sender};
use crate::domain::Channel;
use crate::domain::Reply;
use crate::services::{ServiceError, Services};

/// Most WebSockets (chat and tracking) one instance keeps open; each polls the database, so
/// an unbounded number would let anyone holding a tracking link load it at will.
pub const MAX_SOCKETS: usize = 4096;

/// Wakes this instance's web sockets and tells them when the server shuts down. Cheap to
/// clone; every clone is the same hub.
#[derive(Clone)]
pub struct WebHub {
    pushed: broadcast::Sender<Arc<str>>,
    shutdown: watch::Sender<bool>,
    sockets: Arc<Semaphore>,
}

impl Default for WebHub {
    fn default() -> Self {
        Self::new()
    }
}

impl WebHub {
    pub fn new() -> Self {
        // Lagging behind only costs a database read: a lagged receiver re-reads anyway.
        let (pushed, _) = broadcast::channel(256);
        let (shutdown, _) = watch::channel(false);
        Self {
            pushed,
            shutdown,
            sockets: Arc::new(Semaphore::new(MAX_SOCKETS)),
        }
    }

    /// Tells this instance's sockets of `user` that a push is waiting.
    pub fn notify(&self, user: &str) {
        // No receivers (no open sockets) is normal.
        let _ = self.pushed.send(Arc::from(user));
    }

    /// Users with new pushes, as they are notified.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.pushed.subscribe()
    }

    /// Asks every socket to close (server shutdown).
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves to `true` once [`WebHub::shut_down`] was called.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// A place for one more socket, or `None` when the instance is full.
    pub fn admit_socket(&self) -> Option<OwnedSemaphorePermit> {
        self.sockets.clone().try_acquire_owned().ok()
    }
}

/// Sends to web chat customers (their web user id) by storing pushes.
pub struct WebSender {
    services: Services,
    hub: WebHub,
}

impl WebSender {
    pub fn new(services: Services, hub: WebHub) -> Self {
        Self { services, hub }
    }
}

#[async_trait::async_trait]
impl Sender for WebSender {
    fn channel(&self) -> Channel {
        Channel::Web
    }

    async fn send(&self, user: &str, replies: &[Reply]) -> Result<(), SendError> {
        if user.is_empty() {
            return Err(SendError::Undeliverable("empty web user id".into()));
        }
        match self.services.push_web(user, replies).await {
            Ok(_) => {
                self.hub.notify(user);
                Ok(())
            }
            Err(e @ ServiceError::Store(_)) => Err(SendError::Retry(e.to_string())),
            Err(e) => Err(SendError::Undeliverable(e.to_string())),
        }
    }
}
