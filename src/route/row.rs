//! A decision's row in the log as the route reads it back: the sender's newest decision or the
//! first decision of a re-delivered message (`Prior`, read by src/route/history.rs), the
//! conversation it belongs to, and the session state it carries (src/route/session.rs).
use crate::core::config::Bp;
use pgrx::datum::TimestampWithTimeZone;

/// A decision already in the log for this sender.
#[derive(Clone, Debug, PartialEq)]
pub struct Prior {
    pub id: i64,
    /// Its created_at: the partition to count a re-delivery in.
    pub created_at: Option<TimestampWithTimeZone>,
    pub domain: Option<String>,
    pub unified: bool,
    pub bucket: Option<i32>,
    pub percentage: Option<Bp>,
    pub config_id: Option<i64>,
    pub conversation_id: Option<i64>,
    /// Its session so far (src/route/session.rs), which the next logged decision carries on.
    pub session: SessionState,
}

/// The conversation in progress: its opening decision, its domain and its handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub id: i64,
    pub domain: String,
    pub unified: bool,
}

impl Prior {
    /// The conversation this decision belongs to, if it had a domain.
    pub fn conversation(&self) -> Option<Conversation> {
        Some(Conversation {
            id: self.conversation_id?,
            domain: self.domain.clone()?,
            unified: self.unified,
        })
    }
}

/// What a logged decision carries of its session, for its sender's next decision. Minutes are
/// timestamps (microseconds from 2000-01-01, as Postgres keeps them) of a minute's start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionState {
    /// The session's domain: that of its first decision with a domain; None until then.
    pub domain: Option<String>,
    /// The minute of its first break: a broken session counts nothing more.
    pub broken_at: Option<i64>,
    /// The minute it was counted deliberate, while it has no break.
    pub deliberate_at: Option<i64>,
    /// The minute it was counted switched, while it has no break.
    pub switched_at: Option<i64>,
}
