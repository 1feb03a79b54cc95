//! `ip neigh flush`: every entry a listing finds (by default on one link, all states but
//! permanent and noarp, as `ip neigh flush dev LINK` does), deleted in one pipelined round.
//! Not a batch item: what it deletes is only known once the listing is in, and it is not
//! undone.

use crate::error::Result;
use crate::handle::Handle;
use crate::link::LinkRef;

use super::get::NeighbourFilter;
use super::{NeighbourKey, NeighbourState};

impl Handle {
    /// Deletes the entries `filter` finds; `filter.states` defaults to every state but
    /// permanent and noarp. Entries that went away meanwhile do not count as failures.
    /// Resolves to how many were deleted.
    pub async fn neigh_flush(&self, filter: &NeighbourFilter) -> Result<usize> {
        let mut filter = filter.clone();
        filter.states.get_or_insert_with(|| {
            NeighbourState::ALL
                .iter()
                .copied()
                .filter(|s| !matches!(s, NeighbourState::Permanent | NeighbourState::Noarp))
                .collect()
        });
        let found = self.neigh_list(&filter).await?;
        let requests = found
            .iter()
            .filter_map(|r| {
                let key = NeighbourKey {
                    link: LinkRef::Index(r.index),
                    address: r.address.parse().ok()?,
                    proxy: r.proxy == Some(true),
                };
                Some(key.encode_del(r.index))
            })
            .collect();
        let mut deleted = 0;
        for result in self.send_all(requests).await {
            match result {
                Ok(()) => deleted += 1,
                Err(e) if e.errno() == Some(libc::ENOENT) => {}
                Err(e) => return Err(e.context("neighbour.flush", None)),
            }
        }
        Ok(deleted)
    }
}
