//! The live fan-out of committed vacancy changes to connected streams.
//!
//! Writers do not broadcast their own change: two commits may finish in one order and reach
//! the broadcast in the other. Instead, after each commit the writer asks the hub to catch up,
//! and the hub (one at a time, under its lock) reads the changes past the last one it sent, in
//! sequence order, and sends those. So the broadcast carries every change once, in order, with
//! no gaps; a stream that still sees a gap (it lagged, or connected before the hub's first
//! catch-up) reads the missing ones from the database itself.

use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard, broadcast};

use crate::db::vacancies::ChangeRow;

/// Changes a slow stream may fall behind before it must read from the database instead.
const CAPACITY: usize = 1024;

/// The broadcast of vacancy changes, and how far it has got.
pub struct Hub {
    sender: broadcast::Sender<Arc<ChangeRow>>,
    /// The last change number sent; `None` until the hub first learns where the sequence stands.
    sent: Mutex<Option<i64>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self { sender: broadcast::channel(CAPACITY).0, sent: Mutex::new(None) }
    }
}

impl Hub {
    /// A receiver of every change sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeRow>> {
        self.sender.subscribe()
    }

    /// Holds the hub while its position is read or moved: catch-ups run one at a time.
    pub async fn lock(&self) -> MutexGuard<'_, Option<i64>> {
        self.sent.lock().await
    }

    /// Sends one change (under the lock, in sequence order). No receiver is not an error.
    pub fn send(&self, change: ChangeRow) {
        let _receivers = self.sender.send(Arc::new(change));
    }

    /// Streams connected now.
    pub fn receivers(&self) -> usize {
        self.sender.receiver_count()
    }
}
