//! Reading a created link back from the kernel's echo instead of asking for it.
//!
//! A chain that creates a link reads it back at the end (`[add, ...changes folded into it,
//! get]`), a second round trip. Recent kernels honour NLM_F_ECHO on RTM_NEWLINK: they send the
//! creating socket the new link's RTM_NEWLINK before the ACK (6.18 does; Debian's 6.1 does
//! not: it is learnt from the first answer, never assumed). So a creation followed directly by
//! the read-back of the link it made asks for the echo, and once this kernel has been seen to
//! send it, the read-back is answered from it and not sent. Until then (and on kernels that do
//! not echo) the read-back goes out as before; a creation that should have been echoed and was
//! not has its link read at the end of the run instead.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::link::{fast, LinkRecord, LinkRef};
use crate::transport::Messages;

use super::{Item, Op};

/// NLM_F_ECHO: send the request's notification back to the sender too.
pub(super) const NLM_F_ECHO: u16 = 0x8;

const UNKNOWN: u8 = 0;
const ECHOES: u8 = 1;
const SILENT: u8 = 2;

/// Whether this kernel echoes RTM_NEWLINK (kernel-wide, so learnt once per process).
static NEWLINK_ECHO: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether the read-backs of echoed creations can be left unsent.
fn kernel_echoes() -> bool {
    NEWLINK_ECHO.load(Ordering::Relaxed) == ECHOES
}

/// Whether creations should ask for the echo (not once the kernel is known to ignore it).
pub(super) fn worth_asking() -> bool {
    NEWLINK_ECHO.load(Ordering::Relaxed) != SILENT
}

/// What a creation sent with NLM_F_ECHO says about this kernel.
fn learn(echoed: bool) {
    NEWLINK_ECHO.store(if echoed { ECHOES } else { SILENT }, Ordering::Relaxed);
}

/// What a creation whose MTU is checked (`AddLink::capped`) says about this kernel: asked
/// for its echo while it was worth asking, it got one or not.
pub(super) fn learn_from_check(echoed: bool) {
    if worth_asking() {
        learn(echoed);
    }
}

/// The read-backs of one run that creations' echoes answer.
#[derive(Default)]
pub(super) struct ReadBacks {
    /// By position: the creation whose echo may answer this read-back.
    answered_by: Vec<Option<usize>>,
    /// By position: a read-back right after this creation wants its echo.
    wanted: Vec<bool>,
    /// By position: the creation was sent asking for the echo.
    asked: Vec<bool>,
    /// By position: the read-back a creation's echo answers (it was left unsent).
    answers: Vec<Option<usize>>,
    /// Read-backs left unsent whose echo did not come: read at the end of the run.
    pub(super) missing: Vec<usize>,
}

impl ReadBacks {
    /// A run that creates no link has none: nothing is allocated for it (most awaited calls).
    pub(super) fn new(items: &[Option<&Item>], folded: &[Option<usize>]) -> Self {
        let creates = items
            .iter()
            .flatten()
            .any(|item| matches!(item.op, Op::AddLink(_)));
        if !creates || !worth_asking() {
            return ReadBacks::default();
        }
        let answered_by = read_backs(items, folded);
        let mut wanted = vec![false; items.len()];
        for k in answered_by.iter().flatten() {
            wanted[*k] = true;
        }
        ReadBacks {
            wanted,
            asked: vec![false; items.len()],
            answers: vec![None; items.len()],
            answered_by,
            missing: Vec::new(),
        }
    }

    /// Whether creation `k` asks for its echo (some read-back right after it wants it); the
    /// caller sets NLM_F_ECHO and waits for the ACK.
    pub(super) fn ask(&mut self, k: usize) -> bool {
        let wanted = self.wanted.get(k).copied().unwrap_or(false);
        if wanted {
            self.asked[k] = true;
        }
        wanted
    }

    /// Whether read-back `g` is left unsent, to be answered by its creation's echo.
    pub(super) fn leave_unsent(&mut self, g: usize) -> bool {
        match self.answered_by.get(g).copied().flatten() {
            Some(k) if self.asked[k] && kernel_echoes() => {
                self.answers[k] = Some(g);
                true
            }
            _ => false,
        }
    }

    /// Creation `k` succeeded: the read-back its echo answers, with the link it echoed (None
    /// when the kernel sent none: the read-back goes into `missing`).
    pub(super) fn created(&mut self, k: usize, reply: &Messages) -> Option<(usize, LinkRecord)> {
        if !self.asked.get(k).copied().unwrap_or(false) {
            return None;
        }
        let echo = reply.iter().find_map(fast::read_link);
        learn(echo.is_some());
        let g = self.answers[k]?;
        match echo {
            Some(record) => Some((g, record)),
            None => {
                self.missing.push(g);
                None
            }
        }
    }

    /// The read-back creation `k` answers, if it was left unsent (so shares the creation's
    /// failure).
    pub(super) fn answer_of(&self, k: usize) -> Option<usize> {
        self.answers.get(k).copied().flatten()
    }
}

/// By position, the creation whose echo answers a read-back: a `link.get` of the link the
/// item just before it created (folded changes in between do not count: they went into the
/// creation request). Not for a link created with a master: the kernel echoes it before it
/// joins the master (6.18: `rtnl_configure_link` notifies, then `do_set_master` runs).
fn read_backs(items: &[Option<&Item>], folded: &[Option<usize>]) -> Vec<Option<usize>> {
    let mut answered_by = vec![None; items.len()];
    let mut previous: Option<usize> = None;
    for (i, item) in items.iter().enumerate() {
        if folded[i].is_some() {
            continue;
        }
        if let (
            Some(k),
            Some(Item {
                op: Op::GetLink(get),
                target,
            }),
        ) = (previous, item)
        {
            if let Some(Item {
                op: Op::AddLink(add),
                target: t,
            }) = items[k]
            {
                let same = matches!(&get.link, LinkRef::Name(n) if *n == add.names.name);
                if t == target && same && add.spec.common.master.is_none() {
                    answered_by[i] = Some(k);
                }
            }
        }
        previous = Some(i);
    }
    answered_by
}
