//! A message as routing reads it: who sent it, and what can tell its domain (its type, the ids
//! the user picked, the texts by field). src/route/whatsapp.rs fills it from a webhook's jsonb;
//! detection (src/core/detect.rs) and the policy (src/route/policy.rs) read it, and a second
//! host would fill it from its own payload.
use crate::core::text::Field;

/// The first user message of a webhook: who sent it and what can tell its domain.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inbound<'a> {
    pub sender: Option<&'a str>,
    pub message_id: Option<&'a str>,
    /// `type`: text, interactive, button, location, image, …
    pub kind: Option<&'a str>,
    /// Machine ids: interactive reply ids and template button payloads.
    pub ids: Vec<&'a str>,
    /// What the user sees or wrote, by field: body, captions, titles, descriptions, the ad,
    /// a file name, a Flow's answers, an order's note.
    pub texts: Vec<(Field, &'a str)>,
}
