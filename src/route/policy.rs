//! The routing policy: where one webhook goes, and why, decided without touching the database.
//! The file to read for "why did this message go to legacy".
//!
//! A message goes to the unified handler only when all of these hold, checked in this order:
//! it is a user message; a rule maps it to a domain; the domain is not protected; the domain is
//! routable (in `domains`); routing is enabled globally and for the domain; and the sender's
//! sticky bucket is below the domain's percentage × 100. Each failed check has its reason.
//!
//! Within a conversation (`follow`, driven table by table by the tests below; the
//! conversation is read from the log by src/route/history.rs):
//! - No conversation in progress: the message is routed on its own cues, and opens one if it
//!   has a domain.
//! - A message opens a new conversation in another domain when detection finds that domain
//!   (not by weak rules alone, nor in the labels of a menu pick alone) and asks for it (a match
//!   after a word of intent, or an id or message type rule) with a score of `SWITCH_SCORE` (3)
//!   or more. So "I also need a ride tomorrow" (intent 2 × 2 = 4), a list pick whose id has
//!   another domain's prefix (8) or a catalog order (type, 4) switch; "taxi", "Hamagara
//!   umukozi" or "help me write a CV for a cashier job" (no request) do not. Leaving a
//!   protected domain's conversation that way keeps legacy (reason `protected_conversation`)
//!   for the whole new conversation. Towards a protected domain the bar is lower, so that its
//!   traffic never stays with the new handler: named in the user's words with
//!   `PROTECTED_NAMED_SCORE` (3), even in a question ("et l'assurance incendie, vous faites
//!   ?"); asked for with `PROTECTED_SWITCH_SCORE` (2), one word wanted ("ok now I need a
//!   moto"); or `CLEAR_SWITCH_SCORE` (6) without asking.
//! - Any other message continues the conversation: no cue, a weak cue only (a bare location),
//!   a cue for the conversation's own domain, or a weaker cue for another. Same domain, same
//!   handler, reason `conversation`.
//! - The handler of a conversation never moves to unified mid-conversation: a percentage raise
//!   applies to new conversations. It moves to legacy at once when the settings in force would
//!   not send it to unified (a decrease, a rollback, a domain switched off or made protected, the
//!   kill switch), with that reason: a deliberate break, which `routing_sessions` counts apart.
//!
use crate::core::bucket::{bucket, in_rollout, random_bucket};
use crate::core::config::{Bp, Config};
use crate::core::detect::{Detection, Rules};
use crate::core::message::Inbound;
use crate::route::row::Conversation;
use crate::route::whatsapp::Payload;

/// The score a request for another domain (a match after a word of intent, an id, a message
/// type) needs to end the conversation in progress and open one there: more than one plain
/// word (2).
pub const SWITCH_SCORE: f32 = 3.0;

/// The score a request asked for by a word of wanting or asking needs to leave for a protected
/// domain: one word of it wanted (a ride, an account, a cover: "ok now I need a moto"). The
/// protected domain's traffic must never stay with the new handler, so the bar is lower
/// towards it, as detection's margin is (src/core/detect.rs, PROTECTED_CLEAR).
pub const PROTECTED_SWITCH_SCORE: f32 = 2.0;

/// The points a protected domain's matches in the user's own words need to take a routable
/// domain's conversation there, whatever the message asks: a phrase's worth, a word weighted
/// as one (`insur*`, `*ishingiz*`) or two words ("ma voiture a eu un accrochage, je déclare
/// comment le sinistre ?"); not one word ("is it far from the bus station?"). The protected
/// domain's traffic must never stay with the new handler.
pub const PROTECTED_NAMED_SCORE: f32 = 3.0;

/// The score that takes a conversation to a protected domain without a request: three words
/// or two phrases of it. A routable domain needs a request, however many of its words an
/// answer to the bot's question holds ("inzu", "kazi ya mhasibu").
pub const CLEAR_SWITCH_SCORE: f32 = 6.0;

/// The assistant's domain: in its conversation a question is for the assistant ("which papers
/// does a land sale need and what does building cost?"), however many of another domain's
/// words it holds, and whatever its question asks to know ("what does the seller need?"). It
/// leaves for another domain on a request (`Detection::requested`): a pick (an id or a message
/// type of that domain), or a match after a word of asking or of wanting that is not inside a
/// question ("can I buy chickens here?", "do you have houses for rent?", "I'd rather find a
/// job first"); a turn alone ("and the transport of the guests?", "et le loyer?") goes on
/// with its question.
pub const ASSISTANT_DOMAIN: &str = "ai_agents";

/// Why a decision went the way it did; stored in `webhook_routing_logs.reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Unified: the sender's (or routing key's) bucket is below the percentage.
    InRollout,
    /// Unified: no sender and no routing key, so the bucket was drawn at random.
    InRolloutRandom,
    NotInRollout,
    NotInRolloutRandom,
    /// Not a webhook body: NULL, a scalar, an array, or an object without `entry`.
    NotAWebhook,
    /// A webhook without a user message, e.g. delivery statuses.
    NoUserMessage,
    /// No rule maps the message to a domain.
    UnknownDomain,
    /// The domain is protected: never routed.
    ProtectedDomain,
    /// The domain is known but not in the routable `domains`.
    DomainNotRouted,
    /// The global kill switch is off.
    RoutingDisabled,
    /// The domain's own switch is off.
    DomainDisabled,
    /// The config history is empty: nothing is routed until a config row exists.
    NoConfig,
    /// A follow-up: the conversation in progress decided (`follow`).
    Conversation,
    /// A new conversation, opened from a protected domain's one: kept on legacy.
    ProtectedConversation,
    /// A re-delivery of a message already decided: its first decision.
    Retry,
    /// A delivery status, sent to the handler of its recipient's conversation (route_messages).
    Status,
    /// A delivery status whose recipient has no conversation in the retry window.
    NoConversation,
    /// Unified: one of the domain's testers (set_routing_testers), before the percentage.
    Tester,
    /// Legacy: the domain denies this routing key unified (set_routing_denied).
    Denied,
    /// Legacy: a message id longer than any WhatsApp sends (`MAX_MESSAGE_ID`); answered, not
    /// logged with its id, never a re-delivery of anything.
    InvalidMessageId,
}

/// The longest message id a decision keeps, in bytes. WhatsApp's ids (`wamid.` and a base64
/// payload) have under 100; the log's index on message ids holds at most 2,704 bytes a row, and
/// a longer id would make the whole body's call fail.
pub const MAX_MESSAGE_ID: usize = 256;

impl Reason {
    /// Every reason, in the enum's order: the catalogue of reasons (`webhook_routing_reasons()`,
    /// which the docs' table of reasons is checked against). A new reason goes at the end, of
    /// the enum and of this list.
    pub const ALL: [Reason; 20] = [
        Reason::InRollout,
        Reason::InRolloutRandom,
        Reason::NotInRollout,
        Reason::NotInRolloutRandom,
        Reason::NotAWebhook,
        Reason::NoUserMessage,
        Reason::UnknownDomain,
        Reason::ProtectedDomain,
        Reason::DomainNotRouted,
        Reason::RoutingDisabled,
        Reason::DomainDisabled,
        Reason::NoConfig,
        Reason::Conversation,
        Reason::ProtectedConversation,
        Reason::Retry,
        Reason::Status,
        Reason::NoConversation,
        Reason::Tester,
        Reason::Denied,
        Reason::InvalidMessageId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InRollout => "in_rollout",
            Reason::InRolloutRandom => "in_rollout_random",
            Reason::NotInRollout => "not_in_rollout",
            Reason::NotInRolloutRandom => "not_in_rollout_random",
            Reason::NotAWebhook => "not_a_webhook",
            Reason::NoUserMessage => "no_user_message",
            Reason::UnknownDomain => "unknown_domain",
            Reason::ProtectedDomain => "protected_domain",
            Reason::DomainNotRouted => "domain_not_routed",
            Reason::RoutingDisabled => "routing_disabled",
            Reason::DomainDisabled => "domain_disabled",
            Reason::NoConfig => "no_config",
            Reason::Conversation => "conversation",
            Reason::ProtectedConversation => "protected_conversation",
            Reason::Retry => "retry",
            Reason::Status => "status",
            Reason::NoConversation => "no_conversation",
            Reason::Tester => "tester",
            Reason::Denied => "denied",
            Reason::InvalidMessageId => "invalid_message_id",
        }
    }
}

/// A routing decision and what explains it.
#[derive(Debug, PartialEq, Eq)]
pub struct Decision {
    pub domain: Option<String>,
    pub unified: bool,
    pub reason: Reason,
    pub bucket: Option<i32>,
    /// The domain's percentage in force, for routable domains.
    pub percentage: Option<Bp>,
    pub config_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub message_id: Option<String>,
    /// The conversation it continues; None when it opens one (or has no domain).
    pub follows: Option<i64>,
}

impl Decision {
    pub fn routed_to(&self) -> &'static str {
        target(self.unified)
    }

    /// The conversation this decision belongs to, given its own log row's id: the one it
    /// follows, else its own if it has a domain (it opens one). An unlogged decision passes 0
    /// (ids start at 1), which stands for itself within one route_messages call.
    pub fn conversation_id(&self, own_id: i64) -> Option<i64> {
        self.follows
            .filter(|&c| c > 0)
            .or(self.domain.as_ref().map(|_| own_id))
    }
}

/// The handler's name in the log and the results: unified or legacy.
pub fn target(unified: bool) -> &'static str {
    if unified {
        "unified"
    } else {
        "legacy"
    }
}

/// What makes a message's bucket sticky: its routing key (the caller's, when given and not
/// empty, else the sender's number), or, without one, a bucket drawn at random. Made once per
/// message (src/route/one_message.rs), so that deciding it again (a re-delivery) keeps the
/// same draw, and `decide` stays a function of its arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sticky<'a> {
    Key(&'a str),
    Drawn(i32),
}

impl<'a> Sticky<'a> {
    /// The message's routing key, or a bucket drawn for it.
    pub fn of(message: &Inbound<'a>, routing_key: Option<&'a str>) -> Self {
        match routing_key.filter(|k| !k.is_empty()).or(message.sender) {
            Some(key) => Sticky::Key(key),
            None => Sticky::Drawn(random_bucket()),
        }
    }

    /// For any payload. A payload without a user message draws nothing: `decide` answers it
    /// before any bucket, so its `Drawn(0)` is never read.
    pub fn of_payload(payload: &Payload<'a>, routing_key: Option<&'a str>) -> Self {
        match payload {
            Payload::Message(message) => Sticky::of(message, routing_key),
            _ => Sticky::Drawn(0),
        }
    }

    /// The routing key, if the message has one.
    pub fn key(self) -> Option<&'a str> {
        match self {
            Sticky::Key(key) => Some(key),
            Sticky::Drawn(_) => None,
        }
    }
}

/// Decide, without touching the database: the whole routing policy, given the sender's
/// conversation in progress (src/route/history.rs) and what makes the message sticky
/// (`Sticky`, made once per message by the caller). A function of its arguments: the same
/// arguments, the same decision.
pub fn decide(
    payload: &Payload,
    conversation: Option<&Conversation>,
    sticky: Sticky,
    config: Option<&Config>,
    rules: &Rules,
) -> Decision {
    let mut decision = Decision {
        domain: None,
        unified: false,
        reason: Reason::NotAWebhook,
        bucket: None,
        percentage: None,
        config_id: config.and_then(|c| c.id),
        rule_id: None,
        message_id: None,
        follows: None,
    };
    let message = match payload {
        Payload::NotAWebhook => return decision,
        Payload::NoUserMessage => {
            decision.reason = Reason::NoUserMessage;
            return decision;
        }
        Payload::Message(message) => message,
    };
    if message
        .message_id
        .is_some_and(|id| id.len() > MAX_MESSAGE_ID)
    {
        decision.reason = Reason::InvalidMessageId;
        return decision;
    }
    decision.message_id = message.message_id.map(str::to_owned);
    let protected = |d: &str| config.is_some_and(|c| c.is_protected(d));
    let detection = rules.detect(message, &protected);
    let turn = follow(detection.as_ref(), conversation, config);
    let Some(domain) = choose_domain(&turn, detection.as_ref(), &mut decision) else {
        decision.reason = Reason::UnknownDomain;
        return decision;
    };
    decision.domain = Some(domain.to_owned());
    let Some(config) = config else {
        decision.reason = Reason::NoConfig;
        return decision;
    };
    if let Some(reason) = never_routed(config, domain) {
        decision.reason = reason;
        return decision;
    }
    check_settings(config, domain, sticky, &mut decision);
    keep_conversation(&turn, &mut decision);
    decision
}

/// The domain a message is decided in: its conversation's when it follows one (with the rule
/// that found that domain, if one did), else the one detected; None when neither.
fn choose_domain<'a>(
    turn: &Turn<'a>,
    detection: Option<&Detection<'a>>,
    decision: &mut Decision,
) -> Option<&'a str> {
    match (turn, detection) {
        (Turn::Follow(c), _) => {
            decision.follows = Some(c.id);
            decision.rule_id = detection
                .filter(|d| d.domain == c.domain)
                .map(|d| d.rule_id);
            Some(c.domain.as_str())
        }
        (_, Some(d)) => {
            decision.rule_id = Some(d.rule_id);
            Some(d.domain)
        }
        (_, None) => None,
    }
}

/// Why a domain is never routed, whatever the conversation: protected, or not routable.
fn never_routed(config: &Config, domain: &str) -> Option<Reason> {
    if config.is_protected(domain) {
        Some(Reason::ProtectedDomain)
    } else if !config.is_routable(domain) {
        Some(Reason::DomainNotRouted)
    } else {
        None
    }
}

/// The checks of a routable domain, in order: the kill switch, the domain's switch, a denied
/// key, a tester, then the sticky bucket against the domain's percentage.
fn check_settings(config: &Config, domain: &str, sticky: Sticky, decision: &mut Decision) {
    let percentage = config.percentage_for(domain);
    decision.percentage = Some(percentage);
    let key = sticky.key();
    let bucket = match sticky {
        Sticky::Key(key) => bucket(domain, key),
        Sticky::Drawn(drawn) => drawn,
    };
    decision.bucket = Some(bucket);
    decision.reason = if !config.enabled {
        Reason::RoutingDisabled
    } else if !config.domain_enabled(domain) {
        Reason::DomainDisabled
    } else if key.is_some_and(|k| config.is_denied(domain, k)) {
        Reason::Denied
    } else if key.is_some_and(|k| config.is_tester(domain, k)) {
        decision.unified = true;
        Reason::Tester
    } else {
        decision.unified = in_rollout(bucket, percentage);
        match (decision.unified, key.is_some()) {
            (true, true) => Reason::InRollout,
            (true, false) => Reason::InRolloutRandom,
            (false, true) => Reason::NotInRollout,
            (false, false) => Reason::NotInRolloutRandom,
        }
    };
}

/// What the conversation in progress changes once the settings have spoken.
fn keep_conversation(turn: &Turn, decision: &mut Decision) {
    match turn {
        // A switch that is off says so, whatever the conversation.
        Turn::Follow(_)
            if matches!(
                decision.reason,
                Reason::RoutingDisabled | Reason::DomainDisabled
            ) => {}
        // The conversation keeps its handler, but never holds unified against the settings
        // in force: a decrease or a rollback moves it, with that reason.
        Turn::Follow(c) if c.unified == decision.unified || !c.unified => {
            decision.unified = c.unified;
            decision.reason = Reason::Conversation;
        }
        Turn::Switch { pinned: true } if decision.unified => {
            decision.unified = false;
            decision.reason = Reason::ProtectedConversation;
        }
        _ => {}
    }
}

/// Where a message goes within a conversation, before the target's own checks.
#[derive(Debug, PartialEq, Eq)]
pub enum Turn<'a> {
    /// No conversation in progress: the message's own cues decide.
    Open,
    /// The conversation continues in its domain.
    Follow(&'a Conversation),
    /// A strong cue for another domain: a new conversation there. `pinned` when the one left
    /// was in a protected domain, which keeps the new one on legacy.
    Switch { pinned: bool },
}

/// The turn a message takes, given its detection and the conversation in progress.
pub fn follow<'a>(
    detection: Option<&Detection>,
    conversation: Option<&'a Conversation>,
    config: Option<&Config>,
) -> Turn<'a> {
    let Some(conversation) = conversation else {
        return Turn::Open;
    };
    let protected = |d: &str| config.is_some_and(|c| c.is_protected(d));
    match detection {
        Some(d) if d.domain != conversation.domain && leaves(d, conversation, &protected) => {
            Turn::Switch {
                pinned: protected(&conversation.domain),
            }
        }
        _ => Turn::Follow(conversation),
    }
}

/// Whether a message detected in another domain than its conversation's leaves the
/// conversation for a new one there (`protected` says which domains are). Never a weak cue,
/// nor an answer to the handler's own menu (the labels of a reply: a pick leaves by its id).
/// In the assistant's conversation a question that asks for nothing stays, unless it names a
/// protected domain of the writer's own ("mon assurance voiture expire vendredi, comment la
/// renouveler ?"), which leaves for legacy. Else a domain
/// leaves on a request (a pick, a word of intent) scoring `SWITCH_SCORE`: a statement or an
/// answer that holds a routable domain's words ("help me write a CV for a cashier job" to the
/// assistant) stays, however many. A protected domain also leaves a routable domain's
/// conversation when the user's words name it (`PROTECTED_NAMED_SCORE`), even in a
/// question, when one word of it is asked for (`PROTECTED_SWITCH_SCORE`), or when it scores
/// `CLEAR_SWITCH_SCORE`: the safe direction, a protected request must never reach the new
/// handler. Between protected domains the conversation is on legacy already: a request moves
/// it, a named word does not ("my policy number is …" after "does my insurance cover my
/// taxi?"), nor a pick from its own menu under `SWITCH_SCORE` (`car_3`, "Imodoka", in the
/// insurer's).
fn leaves(d: &Detection, conversation: &Conversation, protected: &dyn Fn(&str) -> bool) -> bool {
    if d.weak || d.labelled {
        return false;
    }
    let named =
        protected(d.domain) && d.named >= PROTECTED_NAMED_SCORE && !protected(&conversation.domain);
    if conversation.domain == ASSISTANT_DOMAIN && d.question && !d.asked && !owns(d, named) {
        return false;
    }
    let requested = d.decisive && d.score >= SWITCH_SCORE;
    if !protected(d.domain) {
        return requested;
    }
    named
        || requested
        || d.decisive
            && d.asked
            && d.score >= PROTECTED_SWITCH_SCORE
            && !picked_between(d, conversation, protected)
        || d.score >= CLEAR_SWITCH_SCORE
}

/// Whether a question to the assistant that names a protected domain (`named`) asks of the
/// writer's own ("mon assurance voiture expire vendredi, comment la renouveler ?"): the
/// writer's cover, ride or account is the protected domain's business, which must reach
/// legacy; a question of covers in general ("how does car insurance work?") stays.
fn owns(d: &Detection, named: bool) -> bool {
    named && d.own
}

/// Whether a message is a menu pick in a protected domain's conversation that another
/// protected domain's words name without a request of `SWITCH_SCORE` (the insurer's list of
/// vehicles: `car_3`, "Imodoka"): the conversation is on legacy already, and its own menu's
/// picks stay with it.
fn picked_between(
    d: &Detection,
    conversation: &Conversation,
    protected: &dyn Fn(&str) -> bool,
) -> bool {
    d.picked && protected(&conversation.domain)
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use crate::core::detect::{MatchKind, Rule};
    use crate::core::text::Field;
    use pgrx::prelude::*;

    fn rules() -> Rules {
        Rules::new(vec![
            Rule::new(1, "jobs", MatchKind::Keyword, "job*", 90).unwrap(),
            Rule::new(2, "mobility", MatchKind::MessageType, "location", 20).unwrap(),
            Rule::new(3, "ai_agents", MatchKind::Keyword, "agent", 90).unwrap(),
        ])
    }

    fn msg<'a>(text: &'a str, sender: Option<&'a str>) -> Payload<'a> {
        Payload::Message(Inbound {
            sender,
            message_id: Some("wamid.X"),
            kind: Some("text"),
            ids: vec![],
            texts: vec![(Field::Body, text)],
        })
    }

    fn config(percentage: Bp, enabled: bool) -> Config {
        Config {
            id: Some(7),
            percentage,
            enabled,
            ..Config::default()
        }
    }

    /// Table-driven: each check of the policy, and its reason.
    #[pg_test]
    fn policy_checks_in_order() {
        let rules = rules();
        let on_100 = config(10_000, true);
        let off = config(10_000, false);
        let on_0 = config(0, true);
        let mut jobs_off = config(10_000, true);
        jobs_off.domain_enabled.insert("jobs".into(), false);
        let mut jobs_zero = config(10_000, true);
        jobs_zero.domain_percentages.insert("jobs".into(), 0);
        let location = Payload::Message(Inbound {
            sender: Some("250788555005"),
            kind: Some("location"),
            ..Default::default()
        });
        let cases: Vec<(&str, Payload, Option<&Config>, bool, Reason)> = vec![
            (
                "not a webhook",
                Payload::NotAWebhook,
                Some(&on_100),
                false,
                Reason::NotAWebhook,
            ),
            (
                "statuses",
                Payload::NoUserMessage,
                Some(&on_100),
                false,
                Reason::NoUserMessage,
            ),
            (
                "no rule",
                msg("hello there", Some("1")),
                Some(&on_100),
                false,
                Reason::UnknownDomain,
            ),
            (
                "protected",
                location,
                Some(&on_100),
                false,
                Reason::ProtectedDomain,
            ),
            (
                "not routable",
                msg("talk to an agent", Some("1")),
                Some(&on_100),
                false,
                Reason::DomainNotRouted,
            ),
            (
                "no config",
                msg("a job", Some("1")),
                None,
                false,
                Reason::NoConfig,
            ),
            (
                "kill switch",
                msg("a job", Some("1")),
                Some(&off),
                false,
                Reason::RoutingDisabled,
            ),
            (
                "domain off",
                msg("a job", Some("1")),
                Some(&jobs_off),
                false,
                Reason::DomainDisabled,
            ),
            (
                "domain at 0%",
                msg("a job", Some("1")),
                Some(&jobs_zero),
                false,
                Reason::NotInRollout,
            ),
            (
                "100%",
                msg("a job", Some("1")),
                Some(&on_100),
                true,
                Reason::InRollout,
            ),
            (
                "0%",
                msg("a job", Some("1")),
                Some(&on_0),
                false,
                Reason::NotInRollout,
            ),
            (
                "random 100%",
                msg("a job", None),
                Some(&on_100),
                true,
                Reason::InRolloutRandom,
            ),
            (
                "random 0%",
                msg("a job", None),
                Some(&on_0),
                false,
                Reason::NotInRolloutRandom,
            ),
        ];
        for (name, payload, config, unified, reason) in cases {
            let d = decide(
                &payload,
                None,
                Sticky::of_payload(&payload, None),
                config,
                &rules,
            );
            assert_eq!((d.unified, d.reason), (unified, reason), "case {name}");
            assert_eq!(d.routed_to(), if unified { "unified" } else { "legacy" });
        }
    }

    fn ids_msg<'a>(id: &'a str, title: &'a str) -> Payload<'a> {
        Payload::Message(Inbound {
            sender: Some("250788000001"),
            message_id: Some("wamid.Y"),
            kind: Some("interactive"),
            ids: vec![id],
            texts: vec![(Field::Title, title)],
        })
    }

    /// Table-driven: every rule of `follow`, a message at a time, against a
    /// conversation in progress (its opening decision 41, its domain, its handler).
    #[pg_test]
    fn conversations_keep_their_handler() {
        use crate::core::detect::Effect;
        let rules = Rules::new(vec![
            Rule::new(1, "jobs", MatchKind::Keyword, "job*", 90).unwrap(),
            Rule::new(2, "mobility", MatchKind::MessageType, "location", 20)
                .unwrap()
                .with(Effect::Weak, None, None),
            Rule::new(3, "marketplace", MatchKind::Keyword, "phone", 90).unwrap(),
            Rule::new(4, "marketplace", MatchKind::IdPrefix, "market_", 90).unwrap(),
            Rule::new(5, "mobility", MatchKind::Keyword, "ride", 90).unwrap(),
            Rule::new(6, "marketplace", MatchKind::Keyword, "sell", 90).unwrap(),
            Rule::new(7, "marketplace", MatchKind::Keyword, "buy", 90).unwrap(),
            Rule::new(8, "mobility", MatchKind::Keyword, "moto taxi", 90).unwrap(),
            Rule::new(9, "insurance", MatchKind::Keyword, "insurance policy", 90).unwrap(),
            Rule::new(10, "mobility", MatchKind::Keyword, "bus", 90).unwrap(),
            Rule::new(11, "ai_agents", MatchKind::Keyword, "explain", 90).unwrap(),
        ]);
        let conv = |domain: &str, unified: bool| Conversation {
            id: 41,
            domain: domain.into(),
            unified,
        };
        let jobs_on = conv("jobs", true);
        let jobs_off = conv("jobs", false);
        let mobility = conv("mobility", false);
        let assistant = conv("ai_agents", false);
        let row = |title| {
            Payload::Message(Inbound {
                sender: Some("250788000001"),
                message_id: Some("wamid.Z"),
                kind: Some("interactive"),
                ids: vec!["opt_2"],
                texts: vec![(Field::Title, title)],
            })
        };
        let mut routable = config(10_000, true);
        routable.domains = vec!["jobs".into(), "marketplace".into()];
        let at_0 = Config {
            percentage: 0,
            ..routable.clone()
        };
        let killed = Config {
            enabled: false,
            ..routable.clone()
        };
        let mut jobs_switched_off = routable.clone();
        jobs_switched_off
            .domain_enabled
            .insert("jobs".into(), false);
        let mut jobs_protected = routable.clone();
        jobs_protected.domains = vec!["marketplace".into()];
        jobs_protected.protected.push("jobs".into());
        let location = Payload::Message(Inbound {
            sender: Some("250788000001"),
            kind: Some("location"),
            ..Default::default()
        });
        let s = Some("250788000001");
        #[rustfmt::skip]
        let cases: Vec<(&str, Payload, Option<&Conversation>, &Config, Option<&str>, bool, Reason, Option<i64>)> = vec![
            ("no conversation: its own cues", msg("a job", s), None, &routable, Some("jobs"), true, Reason::InRollout, None),
            ("no conversation, no cue", msg("2", s), None, &routable, None, false, Reason::UnknownDomain, None),
            ("a bare reply follows", msg("2", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("a weak cue follows", location, Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("its own domain's cue follows", msg("another job", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("another domain's word follows", msg("phone", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("two other words, no request, follow", msg("phone sell", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("three other words, no request, follow", msg("buy phone sell", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("a menu pick's label follows", row("buy phone sell"), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("a protected domain named in a question leaves", msg("is there a moto taxi near the house?", s), Some(&jobs_on), &routable, Some("mobility"), false, Reason::ProtectedDomain, None),
            ("a protected domain's one word in a question follows", msg("is it far from the bus?", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("another protected domain named follows a protected one", msg("my insurance policy is 12", s), Some(&mobility), &routable, Some("mobility"), false, Reason::ProtectedDomain, Some(41)),
            ("the assistant keeps a statement with other words", msg("explain: buy phone sell", s), Some(&assistant), &routable, Some("ai_agents"), false, Reason::DomainNotRouted, Some(41)),
            ("the assistant keeps its questions", msg("how can I buy a phone?", s), Some(&assistant), &routable, Some("ai_agents"), false, Reason::DomainNotRouted, Some(41)),
            ("a request leaves the assistant", msg("I want a phone", s), Some(&assistant), &routable, Some("marketplace"), true, Reason::InRollout, None),
            ("a request for another domain switches", msg("I want a phone", s), Some(&jobs_on), &routable, Some("marketplace"), true, Reason::InRollout, None),
            ("another domain's id switches", ids_msg("market_sell", "Sell"), Some(&jobs_on), &routable, Some("marketplace"), true, Reason::InRollout, None),
            ("a raise never moves it", msg("2", s), Some(&jobs_off), &routable, Some("jobs"), false, Reason::Conversation, Some(41)),
            ("a decrease moves it", msg("2", s), Some(&jobs_on), &at_0, Some("jobs"), false, Reason::NotInRollout, Some(41)),
            ("the kill switch moves it", msg("2", s), Some(&jobs_on), &killed, Some("jobs"), false, Reason::RoutingDisabled, Some(41)),
            ("the kill switch says so on legacy too", msg("2", s), Some(&jobs_off), &killed, Some("jobs"), false, Reason::RoutingDisabled, Some(41)),
            ("a domain switched off moves it", msg("2", s), Some(&jobs_on), &jobs_switched_off, Some("jobs"), false, Reason::DomainDisabled, Some(41)),
            ("a domain made protected moves it", msg("2", s), Some(&jobs_on), &jobs_protected, Some("jobs"), false, Reason::ProtectedDomain, Some(41)),
            ("a protected conversation's replies", msg("a job", s), Some(&mobility), &routable, Some("mobility"), false, Reason::ProtectedDomain, Some(41)),
            ("leaving a protected one keeps legacy", msg("I need a job", s), Some(&mobility), &routable, Some("jobs"), false, Reason::ProtectedConversation, None),
            ("a request for a protected domain", msg("I need a ride", s), Some(&jobs_on), &routable, Some("mobility"), false, Reason::ProtectedDomain, None),
            ("statuses are no message", Payload::NoUserMessage, Some(&jobs_on), &routable, None, false, Reason::NoUserMessage, None),
        ];
        for (name, payload, conversation, config, domain, unified, reason, follows) in cases {
            let d = decide(
                &payload,
                conversation,
                Sticky::of_payload(&payload, None),
                Some(config),
                &rules,
            );
            assert_eq!(
                (d.domain.as_deref(), d.unified, d.reason, d.follows),
                (domain, unified, reason, follows),
                "case {name}"
            );
        }
    }

    #[pg_test]
    fn routing_key_overrides_the_sender() {
        let rules = rules();
        let cfg = config(5_000, true);
        let message = msg("a job", Some("250788123456"));
        let decide_with = |key| {
            decide(
                &message,
                None,
                Sticky::of_payload(&message, key),
                Some(&cfg),
                &rules,
            )
        };
        let by_sender = decide_with(None);
        assert_eq!(by_sender.bucket, Some(bucket("jobs", "250788123456")));
        let by_key = decide_with(Some("tenant-42"));
        assert_eq!(by_key.bucket, Some(bucket("jobs", "tenant-42")));
        // An empty key is no key.
        let empty = decide_with(Some(""));
        assert_eq!(empty.bucket, by_sender.bucket);
        assert_eq!(by_sender.percentage, Some(5_000));
        assert_eq!(by_sender.config_id, Some(7));
        assert_eq!(by_sender.rule_id, Some(1));
        assert_eq!(by_sender.message_id.as_deref(), Some("wamid.X"));
    }
}
