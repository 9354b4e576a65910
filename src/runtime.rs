//! How code that may block for milliseconds runs inside the async server.

/// Runs `f`, which may block for long (a file lock, a sentence encoder), without stalling the
/// other tasks of this runtime thread: on a multi-threaded runtime they move to another thread
/// meanwhile (`block_in_place`). Elsewhere (a current-thread runtime, no runtime) `f` just runs.
pub fn off_async_workers<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
