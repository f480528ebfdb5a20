//! Which domain a message belongs to, from the operator-editable `webhook_routing_rules`: every
//! rule that matches scores points for its domain, and the best score wins.
//!
//! Kinds of rule:
//! - `id_prefix`: an interactive reply id or template button payload starts with the pattern
//!   (case-insensitive), e.g. `jobs_` for `jobs_post_vacancy`;
//! - `message_type`: the message `type` equals the pattern, e.g. `order` → marketplace;
//! - `keyword`: the pattern's words appear, in order and whole, in one text field of the
//!   message (see `Field`). Text and patterns are lowercased, accents folded (`é` = `e`), and
//!   French elisions taken apart (`d'emploi` reads as `emploi`; src/core/text.rs). A trailing `*`
//!   makes the last word a stem (`job*`: job, jobs, jobseeker); `*root*` matches a word that
//!   contains the root anywhere (`*kodesh*`: gukodesha, ndakodesha, bakodesheje), for
//!   Kinyarwanda's prefixed verb and noun forms. A word of seven letters or more also matches a
//!   pattern's word of seven or more one edit away, with the same first letter (a letter
//!   missing, extra, replaced, or two swapped: `employmnet`), for three quarters of its points.
//!
//! Points: a rule's `weight`, or by default: id prefix 8, message type 4, a phrase of several
//! words 3, a word 2, a stem or a root 1.5; times the field's factor (the body, captions,
//! titles, button texts, the ad's headline, a document's file name, an order's note 1; the
//! ad's body 0.6; a list row's description and a Flow's reply 0.5); times 2 for the first
//! match of weight 2 or more (else the first match) after a word of intent (`want`, `need`, `cherche`, `ndashaka`, `natafuta`, …, up to
//! six words before it: "I need a job as a driver" is about the job). Each rule counts once
//! per message, at its best, and a stretch of words once per domain: a phrase and a word
//! inside it are one piece of evidence, worth the better of the two.
//!
//! Effects: a `match` rule adds its points to its domain's score; a `weak` one only counts
//! when no `match` rule matched (a shared location, a greeting), and the detection says it is
//! weak; an `exclude` rule takes back the points of its domain's matches that overlap it
//! (`momo agent` excludes ai_agents there, not in the rest of the message).
//!
//! The decision: the domain with the best score wins, if it scores at least 1. A protected
//! domain wins over a better routable one when it scores at least two thirds of it, or half
//! of it when one of its matches is worth 2 points or more (a word that names it): detection
//! errs towards the legacy handler when a message is close to both. Ties go to the domain
//! with the strongest single match, then to the one whose best rule has the lowest
//! `priority`, then the lowest rule id. `Rules::run` lists the steps in order.
//!
//! No database here: the one thing detection asks of its host, a check for a cancel during a
//! long scan, the rules are given (`Rules::with_interrupts`; the server's, by
//! src/pg/config_load.rs). The tests over the seeded rules, which need the database, are in
//! src/route/detect_tests.rs.
use crate::core::message::Inbound;
use crate::core::text::{self, Field, Word, INTENT_REACH};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    IdPrefix,
    MessageType,
    Keyword,
}

impl MatchKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "id_prefix" => Some(Self::IdPrefix),
            "message_type" => Some(Self::MessageType),
            "keyword" => Some(Self::Keyword),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::IdPrefix => "id_prefix",
            Self::MessageType => "message_type",
            Self::Keyword => "keyword",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Match,
    Weak,
    Exclude,
}

impl Effect {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "match" => Some(Self::Match),
            "weak" => Some(Self::Weak),
            "exclude" => Some(Self::Exclude),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Weak => "weak",
            Self::Exclude => "exclude",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// The words, whole.
    Words,
    /// The words, the last one a stem.
    Stem,
    /// One word containing the root.
    Root,
}

/// The smallest score that names a domain.
pub const MIN_SCORE: f32 = 1.0;
/// A protected domain wins when its score times this reaches the best routable score.
pub const PROTECTED_CLOSE: f32 = 1.5;
/// ... and times this one when it has real evidence: a match worth `PROTECTED_EVIDENCE` points
/// or more (a word that names it, not one that only leans towards it). A routable domain then
/// needs a clear margin: a protected domain's traffic must never reach the new handler, and
/// what outweighs it is then mostly a word that means something else there ("driver" of a
/// ride, "position" shared, "duka" insured).
pub const PROTECTED_CLEAR: f32 = 2.0;
/// The points of a single match that make it real evidence of a protected domain.
pub const PROTECTED_EVIDENCE: f32 = 2.0;
/// The weight of a rule that asks for something to be written or translated (the seeds give
/// it to `help me write`, `translate to`, `nyandikira`, `tafsiri kwa`): what follows it after a
/// `:` or an opening quote is the text to work on, not what the writer wants.
pub const WRITING_ASK: f32 = 4.0;
/// The weight of a rule that asks the assistant for an explanation or advice (`explain`,
/// `difference between`, `tips for`, `comment on dit`, `nsobanurira`, `nipe ushauri`) and up:
/// the routable domains' matches after it are what it is about ("what is the difference
/// between a CV and a cover letter?"). A protected domain's stay: "explain why my claim was
/// refused" is the insurer's.
pub const TOPIC_ASK: f32 = 3.5;
/// A protected domain's match this many words or fewer after a word of intent or asking, with
/// no other match between, is its object, whatever its weight ("ndashaka moto", "I need a car",
/// "can I get a car").
pub const PROTECTED_OBJECT_REACH: usize = 4;
/// How many words after a word of selling (or before a passive of it) what is sold is looked
/// for: "je vends ma vieille voiture".
pub const GOODS_REACH: usize = 3;
/// The factor of the first match after a word of intent.
pub const INTENT_FACTOR: f32 = 2.0;
/// The factor of a match one edit away.
pub const TYPO_FACTOR: f32 = 0.75;
/// Words this long or longer (in bytes, ASCII) match a pattern's word one edit away. (Six
/// made `kubaza`, to ask, read as `kubaka`, to build.)
pub const TYPO_MIN_LEN: usize = 7;
/// The shortest root of a `*root*` pattern.
pub const MIN_ROOT_LEN: usize = 3;

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: i64,
    pub domain: String,
    pub kind: MatchKind,
    pub priority: i32,
    pub effect: Effect,
    /// The points of a match in the body.
    pub weight: f32,
    /// The pattern's language, as the row says (explain_route shows it).
    pub language: Option<String>,
    /// Whether the row is enabled: the cache holds enabled rules only; explain_route may try
    /// disabled ones.
    pub enabled: bool,
    /// id_prefix / message_type: the lowercased pattern. keyword: the pattern as written.
    pub pattern: String,
    /// keyword: the normalized words (a root's single word without its stars).
    words: Vec<String>,
    shape: Shape,
    /// Index of `domain` in `Rules::domains`.
    domain_ix: usize,
}

impl Rule {
    /// Compile a rule row with the default weight and effect. None for a pattern that can
    /// never match (no letters or digits, a root shorter than three letters).
    pub fn new(
        id: i64,
        domain: &str,
        kind: MatchKind,
        pattern: &str,
        priority: i32,
    ) -> Option<Self> {
        let trimmed = pattern.trim();
        let (words, shape) = if kind == MatchKind::Keyword {
            let words = text::words_of(trimmed);
            if words.is_empty() {
                return None;
            }
            let starred = trimmed.ends_with('*');
            if trimmed.starts_with('*') {
                if words.len() != 1 || words[0].len() < MIN_ROOT_LEN {
                    return None;
                }
                (words, Shape::Root)
            } else if starred {
                (words, Shape::Stem)
            } else {
                (words, Shape::Words)
            }
        } else {
            if trimmed.is_empty() {
                return None;
            }
            (Vec::new(), Shape::Words)
        };
        let weight = match (kind, shape) {
            (MatchKind::IdPrefix, _) => 8.0,
            (MatchKind::MessageType, _) => 4.0,
            (MatchKind::Keyword, Shape::Words) if words.len() > 1 => 3.0,
            (MatchKind::Keyword, Shape::Words) => 2.0,
            (MatchKind::Keyword, _) => 1.5,
        };
        Some(Rule {
            id,
            domain: domain.to_owned(),
            kind,
            priority,
            effect: Effect::Match,
            weight,
            language: None,
            enabled: true,
            pattern: if kind == MatchKind::Keyword {
                trimmed.to_owned()
            } else {
                trimmed.to_lowercase()
            },
            words,
            shape,
            domain_ix: 0,
        })
    }

    /// The rule with its row's effect, weight (NULL: the default of its shape) and language.
    pub fn with(mut self, effect: Effect, weight: Option<f32>, language: Option<String>) -> Self {
        self.effect = effect;
        self.language = language;
        if let Some(w) = weight.filter(|w| w.is_finite() && *w > 0.0) {
            self.weight = w;
        }
        self
    }
}

/// The hash of the rule indexes: FxHash (a rotate, a xor and a multiply per 8 bytes).
/// Its keys are the rules' words, which operators write, so nobody outside can flood it; the
/// default SipHash cost a tenth of `detect`'s time in a profile of route_decision.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type WordMap<V> = HashMap<String, V, BuildHasherDefault<WordHasher>>;

/// A node of the keyword trie: the words of keyword rules, in order, from the root.
#[derive(Clone, Debug, Default)]
struct Node {
    children: WordMap<usize>,
    /// Rules whose words end exactly here.
    ends: Vec<usize>,
    /// Rules whose last word is a stem, after the words that lead here, by that stem: a word
    /// is looked up by its prefixes of the stems' lengths only.
    stems: ByLength,
}

/// The spellings a keyword rule's words match: as written; and in Kinyarwanda also without
/// a noun's initial vowel (its augment), which the language drops after a preposition or a
/// negation ("impanuka" → "mu mpanuka", "imodoka" → "nta modoka", "ubutaka" → "ku butaka").
/// A word loses it when it starts with a, i or u before a consonant and keeps four letters or
/// more; up to the first three words of a phrase, in every combination.
fn spellings(words: &[String], kinyarwanda: bool) -> Vec<Vec<String>> {
    let mut all = vec![words.to_vec()];
    if !kinyarwanda {
        return all;
    }
    for (k, word) in words.iter().enumerate().take(3) {
        let b = word.as_bytes();
        let augmented = b.len() >= 5
            && matches!(b[0], b'a' | b'i' | b'u')
            && b[1].is_ascii_lowercase()
            && !matches!(b[1], b'a' | b'e' | b'i' | b'o' | b'u');
        if !augmented {
            continue;
        }
        let without: Vec<Vec<String>> = all
            .iter()
            .map(|spelling| {
                let mut s = spelling.clone();
                s[k] = word[1..].to_owned();
                s
            })
            .collect();
        all.extend(without);
    }
    all
}

/// A map from strings (prefixes, roots) to rules, with the byte lengths of the strings it holds.
#[derive(Clone, Debug, Default)]
struct ByLength {
    rules: WordMap<Vec<usize>>,
    lengths: Vec<usize>,
}

impl ByLength {
    fn insert(&mut self, key: &str, rule: usize) {
        self.rules.entry(key.to_owned()).or_default().push(rule);
        if !self.lengths.contains(&key.len()) {
            self.lengths.push(key.len());
            self.lengths.sort_unstable();
        }
    }

    /// The rules whose prefix starts `lowered`.
    fn prefixes_of<'s>(&'s self, lowered: &'s str) -> impl Iterator<Item = usize> + 's {
        self.lengths
            .iter()
            .take_while(move |&&l| l <= lowered.len())
            .filter(move |&&l| lowered.is_char_boundary(l))
            .filter_map(move |&l| self.rules.get(&lowered[..l]))
            .flatten()
            .copied()
    }
}

/// The longest text of one field that is read, in bytes: WhatsApp's text bodies hold at most
/// 4,096 characters (captions, titles and payloads less); a longer field is read up to the
/// last whole character before this, so that neither time nor memory grows with a body.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// The longest interactive id or payload that is read (WhatsApp allows 256 characters).
pub const MAX_ID_BYTES: usize = 1024;
/// Words longer than this are not searched for roots or typos (no word of the four
/// languages is; a longer run is a link, a code or a key mash).
const MAX_SCANNED_WORD: usize = 40;

/// `text`, cut to at most `max` bytes at a character boundary.
pub fn bounded(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Whether `a` and `b` are at most one edit apart: a letter inserted, deleted or replaced, or
/// two neighbours swapped.
fn one_edit(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if b.len() - a.len() > 1 {
        return false;
    }
    let start = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if start == a.len() {
        return true;
    }
    if a.len() == b.len() {
        let rest = start + 1;
        a[rest..] == b[rest..]
            || (rest < a.len()
                && a[start] == b[rest]
                && a[rest] == b[start]
                && a[rest + 1..] == b[rest + 1..])
    } else {
        a[start..] == b[start + 1..]
    }
}

/// The compiled rule set, indexed so that detection costs what the message holds, not what the
/// rules hold: keyword rules in a trie of their words (a word's stems found by hashing its
/// prefixes of the stems' lengths), roots by hashing a word's substrings of the roots'
/// lengths where a root can start (a bitmap of the roots' first two letters), typos through
/// the one-letter deletions of the long rule words, id prefixes and message types by hash.
/// A decision's cost is then bounded by its text (itself bounded, MAX_TEXT_BYTES) times the
/// longest phrase, with 10,000 rules as with 70.
#[derive(Clone, Debug)]
pub struct Rules {
    rules: Vec<Rule>,
    domains: Vec<String>,
    trie: Vec<Node>,
    id_prefixes: ByLength,
    types: WordMap<Vec<usize>>,
    roots: ByLength,
    /// Bit (a << 8 | b) is set when a root starts with the bytes a, b.
    root_starts: Vec<u64>,
    /// Every word of a keyword pattern.
    known: WordMap<()>,
    /// The long words of patterns (TYPO_MIN_LEN or more), and their one-letter deletions, to
    /// the word they come from (usize::MAX when two words share a deletion).
    long_words: WordMap<usize>,
    deletions: WordMap<usize>,
    long_list: Vec<String>,
    /// Called every 1,024 words of a scan, so that a long text answers a cancel
    /// (statement_timeout): the host's check (Rules::with_interrupts); none by default.
    interrupts: fn(),
}

impl Default for Rules {
    fn default() -> Self {
        Rules::new(Vec::new())
    }
}

/// What detection found.
#[derive(Debug, PartialEq)]
pub struct Detection<'r> {
    pub domain: &'r str,
    /// The rule that scored most for the domain.
    pub rule_id: i64,
    /// Only weak rules matched.
    pub weak: bool,
    pub score: f32,
    /// A match of the domain came after a word of intent ("I want", "nshaka", "je cherche"),
    /// or from an id or the message type: a request, not a bare answer that happens to hold
    /// the domain's word (src/route/policy.rs, `follow`).
    pub decisive: bool,
    /// A match of the domain came from an id (its prefix or its words) or the message type:
    /// what the user picked, not what they wrote.
    pub picked: bool,
    /// A match of the domain is asked for: picked, or after a word of asking (`can I`, `do
    /// you have`, `and …`), or after a word of wanting outside a sentence that opens with a
    /// question word ("I'd rather find a job", not "what does a job seeker need").
    pub requested: bool,
    /// Requested by a word of asking or wanting, or picked: not by a turn alone ("and houses
    /// for rent?"), which in the assistant's conversation goes on with its question.
    pub asked: bool,
    /// The message asks something: a text holds a question mark, or its first word asks
    /// (`what`, `which`, `quel`, `ese`, `je`, …). In an assistant's conversation a question is
    /// for the assistant (src/route/policy.rs, `follow`).
    pub question: bool,
    /// Every counted match of the domain is in the business's labels of a reply (a button's or
    /// a list row's title, a row's description, a template button's text), none in an id: an
    /// answer to the menu its conversation's handler sent, which never moves it.
    pub labelled: bool,
    /// The points of the domain's counted matches in the user's own words (a body or a
    /// caption), 0 when none: how outright the message names it ("l'assurance incendie" 6,
    /// "ubwishingizi" 3, "a eu un accrochage … le sinistre" 3.5, "kituo cha basi" 2). A
    /// protected domain named mid-conversation leaves it (src/route/policy.rs, `follow`).
    pub named: f32,
    /// The user's own words say something of the writer's own (text::is_own: my, mon,
    /// `yanjye`, `yangu`): "mon assurance voiture expire vendredi, comment la renouveler ?"
    /// asks of the writer's cover, not of covers in general.
    pub own: bool,
}

impl Detection<'_> {
    /// What a conversation makes of the message (Explanation::request).
    fn request(&self) -> Option<&'static str> {
        if self.weak {
            None
        } else if self.asked {
            Some("requested")
        } else if self.requested {
            Some("requested by a turn (and, et, na): a question's follow-up in an assistant's conversation")
        } else if self.question {
            Some("a question, no request")
        } else {
            None
        }
    }
}

/// A match, while a message is scored.
#[derive(Clone, Copy, Debug)]
struct Hit {
    rule: usize,
    /// Position span: words of the texts, then the message type, then each id.
    start: usize,
    end: usize,
    field: Option<Field>,
    typo: bool,
    intent: bool,
    /// Its word of intent asks for it, outside a question that only asks to know.
    requested: bool,
    /// ... and that word is one of asking or wanting, not a turn alone (`and`, `et`, `na`).
    asked: bool,
    excluded_by: Option<usize>,
}

impl Hit {
    fn new(rule: usize, start: usize, end: usize, field: Option<Field>) -> Self {
        Hit {
            rule,
            start,
            end,
            field,
            typo: false,
            intent: false,
            requested: false,
            asked: false,
            excluded_by: None,
        }
    }
}

impl Hit {
    /// Picked, not written: from an id (its prefix or its words) or the message type.
    fn picked(&self) -> bool {
        matches!(self.field, None | Some(Field::Id))
    }

    /// In the business's labels of a reply, not the user's words nor an id.
    fn labelled(&self) -> bool {
        matches!(
            self.field,
            Some(Field::Title | Field::Description | Field::ButtonText)
        )
    }
}

/// A word of intent or asking (Texts::cue), and what it makes of its object.
struct Cue<'w> {
    /// Its position among the words.
    at: usize,
    word: &'w str,
    /// It asks for its object, outside a question that only asks to know.
    requests: bool,
    /// It is a turn alone (`and`, `et`, `na`), not a word of asking or wanting.
    turn: bool,
    /// It follows a question word ("how can I …", "quand il veut"), stands in a sentence that
    /// opens with one ("how many kg … can I expect"), or is someone else's wanting in a text
    /// that asks ("et si le propriétaire veut … ?"): it asks to know, and requests no routable
    /// domain's object (a protected one's it still does: mark_intent).
    to_know: bool,
    /// A condition holds it ("if the agent wants to call", "niba ashaka"): it says what
    /// someone would do, so a routable domain's object is not wanted at all, neither weighed
    /// nor requested; a protected one's still is (mark_intent), the safe direction.
    conditional: bool,
}

/// The matches that count, best first, with their points (indexes of the hits); and, when
/// explaining, why each other match did not count (by index of the hits; empty otherwise).
struct Counted {
    matches: Vec<(usize, f32)>,
    fate: Vec<Option<Status>>,
}

/// A domain's points.
#[derive(Clone, Copy, Default)]
struct Score {
    /// Of its match rules that count.
    matched: f32,
    /// Of its weak rules that count.
    weak: f32,
    /// Its best rule that counts (a match rule, when any match rule counts in the message),
    /// and that match's points.
    best: Option<usize>,
    best_points: f32,
}

/// The scores, by domain index.
struct Tally {
    scores: Vec<Score>,
    /// A match rule counts: weak rules are then ignored.
    strong: bool,
}

impl Tally {
    /// Domain `d`'s score: of its match rules, or of its weak rules when no match rule counts.
    fn score(&self, d: usize) -> f32 {
        if self.strong {
            self.scores[d].matched
        } else {
            self.scores[d].weak
        }
    }
}

/// A message's matches, the ones that count, and the scores they make.
struct Scoring {
    hits: Vec<Hit>,
    counted: Counted,
    tally: Tally,
}

/// Why a match counted or not, for explain_route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Counted,
    /// The rule matched elsewhere for more points; a rule counts once.
    Repeat,
    /// A better match of the same domain covers the same words (a phrase and a word of it).
    Covered,
    /// An exclude rule took it back.
    Excluded(i64),
    /// An exclude rule itself.
    Excludes,
    /// A weak rule, while a match rule matched.
    WeakIgnored,
}

/// One match, explained.
#[derive(Clone, Debug)]
pub struct Explained {
    pub rule: Rule,
    pub field: &'static str,
    pub matched: String,
    pub points: f32,
    pub status: Status,
}

/// The scores per domain, the matches, and the decision.
#[derive(Clone, Debug, Default)]
pub struct Explanation {
    pub matches: Vec<Explained>,
    /// (domain, score of match rules, score of weak rules), best first.
    pub scores: Vec<(String, f32, f32)>,
    pub decision: Option<(String, bool)>,
    /// Why the best score did not win, when it did not.
    pub note: Option<String>,
    /// What a conversation makes of the message (src/route/policy.rs, `follow`): `requested` (a pick,
    /// or asked for after a word of intent: it may open a conversation in its domain), or a
    /// question that requests nothing (an assistant's conversation keeps it).
    pub request: Option<&'static str>,
}

/// Whether a message asks something: one of its written texts (not a title or an id) holds a
/// question mark, or its first word is a question word.
fn is_question(message: &Inbound, texts: &Texts) -> bool {
    let written = |f: Field| matches!(f, Field::Body | Field::Caption);
    message.texts.iter().any(|&(f, t)| {
        written(f) && bounded(t, MAX_TEXT_BYTES).contains(['?', '\u{FF1F}', '\u{00BF}'])
    }) || texts.fields.iter().any(|&(f, first, end)| {
        written(f) && first < end && text::is_question_word(texts.words[first].text)
    })
}

/// The words of a message's texts, normalized, each with its field.
struct Texts<'m> {
    words: Vec<Word<'m>>,
    /// (field, first word, end word)
    fields: Vec<(Field, usize, usize)>,
    /// The normalized text the words are slices of.
    source: &'m str,
}

impl Texts<'_> {
    /// Whether the field of words `first..end` asks: it holds a `?`, or opens with a question
    /// word.
    fn field_asks(&self, first: usize, end: usize) -> bool {
        let offset = |w: &Word| w.text.as_ptr() as usize - self.source.as_ptr() as usize;
        let from = offset(&self.words[first]);
        let to = if end < self.words.len() {
            offset(&self.words[end])
        } else {
            self.source.len()
        };
        self.source[from..to.max(from)].contains(['?', '\u{FF1F}', '\u{00BF}'])
            || text::is_question_word(self.words[first].text)
    }

    /// The characters between word `k` and the word before it (`k` > 0).
    fn gap_before(&self, k: usize) -> &str {
        let offset = |w: &Word| w.text.as_ptr() as usize - self.source.as_ptr() as usize;
        let from = offset(&self.words[k - 1]) + self.words[k - 1].text.len();
        &self.source[from..offset(&self.words[k]).max(from)]
    }

    /// Whether the sentence that holds word `at` (of the field starting at word `first`) opens
    /// with a question word: a sentence starts a field, or follows `.`, `!`, `?` or a line
    /// break. "Which papers does the seller need …?" asks to know; its `need` wants nothing.
    fn in_question(&self, at: usize, first: usize) -> bool {
        text::is_question_word(self.words[self.sentence_start(at, first)].text)
    }

    /// Whether the sentence that holds word `at` opens, before it, with a question word that
    /// asks to know (text::is_wh_word: how, which, combien, gute, gani): a word of asking
    /// further on asks to know too ("how many kg of beans per are can I expect", "which crops
    /// can I grow here"), as it does right after one ("how can I sell").
    fn in_wh_question(&self, at: usize, first: usize) -> bool {
        let start = self.sentence_start(at, first);
        start < at && text::is_wh_word(self.words[start].text)
    }

    /// The first word of the sentence that holds word `at`, past a turn that opens it (see
    /// Texts::in_question).
    fn sentence_start(&self, at: usize, first: usize) -> usize {
        let offset = |w: &Word| w.text.as_ptr() as usize - self.source.as_ptr() as usize;
        let mut start = first;
        for k in (first + 1..=at).rev() {
            let gap = &self.source
                [offset(&self.words[k - 1]) + self.words[k - 1].text.len()..offset(&self.words[k])];
            if gap.contains(['.', '!', '?', '\n']) {
                start = k;
                break;
            }
        }
        // A follow-up opens with a turn before its question word ("and where do I find …?",
        // "et combien …?").
        if start < at && text::is_turn(self.words[start].text) {
            start += 1;
        }
        start
    }

    /// Whether a condition (text::is_condition) opens within CONDITION_REACH words before word
    /// `k` of the field starting at word `first`, in the same clause: "my number is … if the
    /// agent wants to call", "niba umukozi ashaka", not "if so, I want a house".
    fn in_condition(&self, k: usize, first: usize) -> bool {
        let mut j = k;
        while j > first && k - j < text::CONDITION_REACH {
            if self
                .gap_before(j)
                .contains([',', '.', '!', '?', ';', ':', '\n'])
            {
                return false;
            }
            j -= 1;
            let next = self.words[j + 1].text;
            if text::is_condition(self.words[j].text, self.words[j].after_pronoun, Some(next)) {
                return true;
            }
        }
        false
    }

    /// Whether word `k` of the field `first..end` is a turn that asks whether the service has
    /// something (text::is_offer): it then asks in that text.
    fn offer_at(&self, k: usize, first: usize, end: usize) -> bool {
        let previous = (k > first).then(|| self.words[k - 1].text);
        let next = (k + 1 < end).then(|| self.words[k + 1].text);
        text::is_offer(previous, self.words[k].text, next)
    }

    /// Word `k` of the field `first..end` as a cue for what follows it: a word of asking or of
    /// wanting (`want`, `need`, `cherche`, `ndashaka`); `None` for any other word. `asks`: the
    /// field asks (Texts::field_asks); `offers`: it holds an offer (Texts::offer_at);
    /// `written`: the field is the user's own text (a body or a caption), where "send me …"
    /// asks the service (a button's "Yes, send me alerts" is the business's label).
    fn cue(
        &self,
        k: usize,
        first: usize,
        end: usize,
        asks: bool,
        offers: bool,
        written: bool,
    ) -> Option<Cue<'_>> {
        let word = self.words[k].text;
        let next = (k + 1 < end).then(|| self.words[k + 1].text);
        // "can I", "could you": a request; "can he eat …", "can it rain …": not. An opener
        // before a question word ("and how much …", "et combien …") asks to know, not to get.
        // "nshobora", "naweza" ask only in a text that asks: else they say what the writer can
        // do.
        let opens = k - first < text::OPENER_REACH
            && text::is_opener(word)
            && !next.is_some_and(text::is_wh_word);
        // "send me a moto" asks the service; "which documents should the seller show me"
        // asks to know.
        let command = written
            && text::is_command(word, next, self.words[k].after_pronoun)
            && !self.in_question(k, first);
        let asking = (text::is_asking(word)
            && text::asks_for_someone(word, next)
            && (asks || !text::is_ability(word)))
            || command
            || text::is_becoming(word)
            || opens
            || self.offer_at(k, first, end);
        // Asked by a turn alone ("and …", "et …", "na …"), not by a word of asking or wanting.
        let turn = opens && text::is_turn(word) && !text::is_intent(word) && !offers;
        if !(asking || text::is_intent(word)) {
            return None;
        }
        // A word of wanting inside a question ("what does the seller need") asks to know, not
        // to get: it weighs its object, but requests nothing.
        let requests = asking || !self.in_question(k, first);
        let before = |n: usize| (k >= first + n).then(|| self.words[k - n].text);
        Some(Cue {
            at: k,
            word,
            requests,
            turn,
            to_know: text::asks_to_know(before(1), before(2))
                || self.in_wh_question(k, first)
                || asks && text::is_others_want(word),
            conditional: self.in_condition(k, first),
        })
    }

    /// The name of the field a match is in: a text's, `type` or `id`.
    fn field_name(&self, h: &Hit) -> &'static str {
        match h.field {
            Some(f) => f.name(),
            None if h.start == self.words.len() => "type",
            None => "id",
        }
    }

    /// What a match matched: its words, the message type or the id (said to be one edit away
    /// from the pattern when it is).
    fn matched(&self, h: &Hit, message: &Inbound) -> String {
        let matched = match h.field {
            Some(_) => self.words[h.start..h.end]
                .iter()
                .map(|w| w.text)
                .collect::<Vec<_>>()
                .join(" "),
            None if h.start == self.words.len() => message.kind.unwrap_or("").to_owned(),
            None => message
                .ids
                .get(h.start - self.words.len() - 1)
                .map_or(String::new(), |s| bounded(s, MAX_ID_BYTES).to_owned()),
        };
        if h.typo {
            format!("{matched} (one edit from the pattern)")
        } else {
            matched
        }
    }
}

impl Rules {
    pub fn new(mut rules: Vec<Rule>) -> Self {
        let mut domains: Vec<String> = Vec::new();
        for rule in &mut rules {
            rule.domain_ix = match domains.iter().position(|d| *d == rule.domain) {
                Some(i) => i,
                None => {
                    domains.push(rule.domain.clone());
                    domains.len() - 1
                }
            };
        }
        let mut compiled = Rules {
            rules,
            domains,
            trie: vec![Node::default()],
            id_prefixes: ByLength::default(),
            types: WordMap::default(),
            roots: ByLength::default(),
            root_starts: vec![0; 1024],
            known: WordMap::default(),
            long_words: WordMap::default(),
            deletions: WordMap::default(),
            long_list: Vec::new(),
            interrupts: || {},
        };
        for i in 0..compiled.rules.len() {
            let rule = compiled.rules[i].clone();
            match (rule.kind, rule.shape) {
                (MatchKind::Keyword, Shape::Root) => {
                    let root = &rule.words[0];
                    compiled.roots.insert(root, i);
                    let b = root.as_bytes();
                    let bit = (usize::from(b[0]) << 8) | usize::from(b[1]);
                    compiled.root_starts[bit / 64] |= 1 << (bit % 64);
                }
                (MatchKind::Keyword, shape) => {
                    let kinyarwanda = rule.language.as_deref() == Some("rw");
                    // (A spelling without an augment is matched as it is, never one edit away:
                    // "umusanzu" must not make "musanze", a town, read as "musanzu".)
                    for (n, words) in spellings(&rule.words, kinyarwanda).iter().enumerate() {
                        let Some((last, leading)) = words.split_last() else {
                            continue;
                        };
                        let typos = n == 0;
                        let mut node = 0;
                        for word in leading {
                            node = compiled.child(node, word, typos);
                        }
                        if shape == Shape::Stem {
                            compiled.trie[node].stems.insert(last, i);
                        } else {
                            let end = compiled.child(node, last, typos);
                            if !compiled.trie[end].ends.contains(&i) {
                                compiled.trie[end].ends.push(i);
                            }
                        }
                    }
                }
                (MatchKind::IdPrefix, _) => compiled.id_prefixes.insert(&rule.pattern, i),
                (MatchKind::MessageType, _) => {
                    compiled
                        .types
                        .entry(rule.pattern.clone())
                        .or_default()
                        .push(i);
                }
            }
        }
        compiled
    }

    /// The rules, with `check` called every 1,024 words of a scan: the host's check for a
    /// cancel (the server's, src/pg/config_load.rs), which this pure module cannot name.
    pub fn with_interrupts(mut self, check: fn()) -> Self {
        self.interrupts = check;
        self
    }

    /// The child of `node` by `word`, made if absent; a long word is also indexed for typos
    /// when `typos` says so.
    fn child(&mut self, node: usize, word: &str, typos: bool) -> usize {
        if let Some(&c) = self.trie[node].children.get(word) {
            return c;
        }
        if !self.known.contains_key(word) {
            self.known.insert(word.to_owned(), ());
        }
        if typos
            && !self.long_words.contains_key(word)
            && word.len() >= TYPO_MIN_LEN
            && word.bytes().all(|b| b.is_ascii_lowercase())
        {
            let ix = self.long_list.len();
            self.long_list.push(word.to_owned());
            self.long_words.insert(word.to_owned(), ix);
            for d in 0..word.len() {
                let mut deleted = word.to_owned();
                deleted.remove(d);
                let entry = self.deletions.entry(deleted).or_insert(ix);
                if *entry != ix {
                    *entry = usize::MAX;
                }
            }
        }
        let c = self.trie.len();
        self.trie.push(Node::default());
        self.trie[node].children.insert(word.to_owned(), c);
        c
    }

    #[cfg(any(test, feature = "pg_test"))]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The long rule word one edit away from `word`, if exactly one is.
    pub(crate) fn typo_of(&self, word: &str) -> Option<&str> {
        if word.len() < TYPO_MIN_LEN
            || word.len() > MAX_SCANNED_WORD
            || !word.bytes().all(|b| b.is_ascii_lowercase())
            || self.known.contains_key(word)
        {
            return None;
        }
        let mut found: Option<usize> = None;
        let mut consider = |ix: usize| -> bool {
            let long = self.long_list.get(ix).map(String::as_bytes);
            if long.is_none_or(|l| l[0] != word.as_bytes()[0] || !one_edit(l, word.as_bytes())) {
                return true;
            }
            match found {
                Some(f) if f != ix => false,
                _ => {
                    found = Some(ix);
                    true
                }
            }
        };
        // The word is a long word with a letter missing.
        if let Some(&ix) = self.deletions.get(word) {
            if !consider(ix) {
                return None;
            }
        }
        let mut deleted = String::with_capacity(word.len());
        for d in 0..word.len() {
            deleted.clear();
            deleted.push_str(&word[..d]);
            deleted.push_str(&word[d + 1..]);
            // A letter too many, or one replaced / two swapped.
            for ix in [self.long_words.get(&deleted), self.deletions.get(&deleted)]
                .into_iter()
                .flatten()
            {
                if !consider(*ix) {
                    return None;
                }
            }
        }
        found.map(|ix| self.long_list[ix].as_str())
    }

    /// The message's texts, normalized into `buffer`, split into words by field.
    fn texts<'m>(message: &Inbound, buffer: &'m mut String) -> Texts<'m> {
        let texts = message
            .texts
            .iter()
            .map(|(f, t)| (*f, bounded(t, MAX_TEXT_BYTES)));
        buffer.reserve(texts.clone().map(|(_, t)| t.len()).sum());
        let mut ends = Vec::with_capacity(message.texts.len() + message.ids.len());
        // A Flow's reply is JSON an app wrote: its keys and its flow token are ids
        // (`devisAssuranceAuto`, `ride_request_form`), split as ids are.
        let mut split = String::new();
        for (field, text) in texts {
            if field == Field::FlowReply {
                split.clear();
                text::id_text(text, &mut split);
                text::normalize_into(&split, buffer);
            } else {
                text::normalize_into(text, buffer);
            }
            ends.push((field, buffer.len()));
        }
        // Ids and payloads, as the words they are made of (text::id_text).
        for id in &message.ids {
            split.clear();
            text::id_text(bounded(id, MAX_ID_BYTES), &mut split);
            text::normalize_into(&split, buffer);
            ends.push((Field::Id, buffer.len()));
        }
        let buffer: &'m str = buffer;
        let mut words = Vec::with_capacity(buffer.len() / 2 + 1);
        let mut fields = Vec::with_capacity(ends.len());
        let mut start = 0;
        for (field, end) in ends {
            let first = words.len();
            text::push_words(&buffer[start..end], &mut words);
            fields.push((field, first, words.len()));
            start = end;
        }
        Texts {
            words,
            fields,
            source: buffer,
        }
    }

    /// The matches of what the user picked: the message type (at position `n`, after the
    /// words) and the ids' prefixes (id `k` at `n + 1 + k`).
    fn picked_hits(&self, message: &Inbound, n: usize, hits: &mut Vec<Hit>) {
        if let Some(kind) = message.kind {
            let kind = bounded(kind, MAX_ID_BYTES);
            let lowered;
            let kind = if kind.bytes().any(|b| b.is_ascii_uppercase()) || !kind.is_ascii() {
                lowered = kind.to_lowercase();
                lowered.as_str()
            } else {
                kind
            };
            for &i in self.types.get(kind).into_iter().flatten() {
                hits.push(Hit::new(i, n, n + 1, None));
            }
        }
        for (k, id) in message.ids.iter().enumerate() {
            let lowered = bounded(id, MAX_ID_BYTES).to_lowercase();
            for i in self.id_prefixes.prefixes_of(&lowered) {
                hits.push(Hit::new(i, n + 1 + k, n + 2 + k, None));
            }
        }
    }

    /// Every match of the message, in order of position within each part.
    fn hits(&self, message: &Inbound, texts: &Texts) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.picked_hits(message, texts.words.len(), &mut hits);
        let words = &texts.words;
        let typos: Vec<Option<&str>> = if self.long_list.is_empty() {
            Vec::new()
        } else {
            words.iter().map(|w| self.typo_of(w.text)).collect()
        };
        // A rule word of one or two letters never matches the word after an elided pronoun.
        let fits = |rule_word: &str, word: &Word| !(word.after_pronoun && rule_word.len() <= 2);
        for &(field, first, end) in &texts.fields {
            for pos in first..end {
                if pos % 1024 == 1023 {
                    (self.interrupts)();
                }
                self.roots_in(words[pos], pos, field, &mut hits);
                let mut node = &self.trie[0];
                // Whether a word on the way was read one edit away.
                let mut typo = false;
                for (q, word) in words.iter().enumerate().take(end).skip(pos) {
                    for &length in node
                        .stems
                        .lengths
                        .iter()
                        .take_while(|&&l| l <= word.text.len())
                    {
                        if !word.text.is_char_boundary(length) {
                            continue;
                        }
                        let stem = &word.text[..length];
                        if !fits(stem, word) {
                            continue;
                        }
                        for &i in node.stems.rules.get(stem).into_iter().flatten() {
                            let mut h = Hit::new(i, pos, q + 1, Some(field));
                            h.typo = typo;
                            hits.push(h);
                        }
                    }
                    let (child, typoed) = match node.children.get(word.text) {
                        Some(&c) if fits(word.text, word) => (c, false),
                        Some(_) => break,
                        None => match typos.get(q).copied().flatten() {
                            Some(fixed) => match node.children.get(fixed) {
                                Some(&c) => (c, true),
                                None => break,
                            },
                            None => break,
                        },
                    };
                    node = &self.trie[child];
                    typo |= typoed;
                    for &i in &node.ends {
                        let mut h = Hit::new(i, pos, q + 1, Some(field));
                        h.typo = typo;
                        hits.push(h);
                    }
                }
            }
        }
        hits
    }

    /// The root rules matching inside `word`.
    fn roots_in(&self, word: Word, pos: usize, field: Field, hits: &mut Vec<Hit>) {
        let w = word.text.as_bytes();
        if self.roots.lengths.is_empty() || w.len() < MIN_ROOT_LEN || w.len() > MAX_SCANNED_WORD {
            return;
        }
        let mut seen: Vec<usize> = Vec::new();
        for start in 0..w.len() - 1 {
            let bit = (usize::from(w[start]) << 8) | usize::from(w[start + 1]);
            if bit / 64 >= self.root_starts.len()
                || self.root_starts[bit / 64] & (1 << (bit % 64)) == 0
                || !word.text.is_char_boundary(start)
            {
                continue;
            }
            for &length in &self.roots.lengths {
                let end = start + length;
                if end > w.len() {
                    break;
                }
                if !word.text.is_char_boundary(end) {
                    continue;
                }
                for &i in self
                    .roots
                    .rules
                    .get(&word.text[start..end])
                    .into_iter()
                    .flatten()
                {
                    if !seen.contains(&i) {
                        seen.push(i);
                        hits.push(Hit::new(i, pos, pos + 1, Some(field)));
                    }
                }
            }
        }
    }

    /// Content given to work on: in a field where a rule of `WRITING_ASK` weight or more
    /// matches ("translate to French: my motorbike insurance has expired"), the matches of
    /// other domains after the first `:` or opening quote that follows it are excluded by it;
    /// without one, and after a rule of `TOPIC_ASK` weight (an explanation, advice), those of
    /// the routable domains after it ("help me write a cover letter for a nursing job").
    /// A field that says it asks in general (text::is_general), and of nothing of the writer's
    /// own (text::is_own), gives the ask every domain's matches after it: "explain how car
    /// insurance works, in general" is the assistant's, "explain in general how my claim
    /// works" the insurer's.
    fn quote(&self, texts: &Texts, hits: &mut [Hit], protected: &dyn Fn(&str) -> bool) {
        for &(field, first, end) in &texts.fields {
            let within = |h: &Hit| h.field == Some(field) && h.start >= first && h.end <= end;
            let Some(ask) = hits
                .iter()
                .filter(|h| {
                    let rule = &self.rules[h.rule];
                    within(h)
                        && rule.effect == Effect::Match
                        && rule.weight >= TOPIC_ASK
                        && h.excluded_by.is_none()
                })
                .min_by_key(|h| h.start)
                .map(|h| (h.rule, h.end))
            else {
                continue;
            };
            // The text after the first `:` or opening quote, given to a writing ask, whatever
            // its domain; without one, or after an ask for an explanation, what follows the
            // ask is what it is about ("write me a cover letter for a nursing job": a letter),
            // of the routable domains only.
            let quoted = (self.rules[ask.0].weight >= WRITING_ASK)
                .then(|| {
                    (ask.1.max(first + 1)..end).find(|&k| {
                        texts
                            .gap_before(k)
                            .contains([':', '"', '\u{201C}', '\u{00AB}'])
                    })
                })
                .flatten();
            let from = quoted.unwrap_or(ask.1);
            let domain = self.rules[ask.0].domain_ix;
            // Asked in general ("explain how car insurance works, in general", "nsobanurira
            // uko ubwishingizi bukora muri rusange"), not of the writer's own case ("my
            // claim", "ubwishingizi bwanjye"): a protected domain's words are its topic too.
            let general = (first..end).any(|k| {
                text::is_general(
                    texts.words[k].text,
                    (k + 1 < end).then(|| texts.words[k + 1].text),
                )
            }) && !(first..end).any(|k| text::is_own(texts.words[k].text));
            for h in hits.iter_mut() {
                let rule = &self.rules[h.rule];
                if within(h)
                    && h.start >= from
                    && (quoted.is_some() || general || !protected(&rule.domain))
                    && rule.domain_ix != domain
                    && rule.effect != Effect::Exclude
                    && h.excluded_by.is_none()
                {
                    h.excluded_by = Some(ask.0);
                }
            }
        }
    }

    /// A weak word (a question word, a greeting) says something only in what the user wrote or
    /// tapped: a list row's description, a Flow's reply or an ad's body are the business's
    /// words ("Update where you live"), and so are an id's or a payload's words, which an app
    /// chose (a template's `where_now_2` asks nothing), so weak keyword matches there are
    /// dropped.
    fn drop_weak_in_business_text(&self, hits: &mut Vec<Hit>) {
        hits.retain(|h| {
            let rule = &self.rules[h.rule];
            !(rule.effect == Effect::Weak
                && rule.kind == MatchKind::Keyword
                && h.field.is_some_and(|f| f.factor() < 1.0 || f == Field::Id))
        });
    }

    /// Mark what each word of intent or asking asks for (Texts::cue, Rules::object_of): its
    /// matches weigh twice (INTENT_FACTOR), and say whether the message requests their domain
    /// ("I need a job as a driver" is about the job). `protected` says which domains the
    /// config protects.
    fn mark_intent(&self, texts: &Texts, hits: &mut [Hit], protected: &dyn Fn(&str) -> bool) {
        for &(field, first, end) in &texts.fields {
            let asks = first < end && texts.field_asks(first, end);
            let offers = (first..end).any(|k| texts.offer_at(k, first, end));
            let written = matches!(field, Field::Body | Field::Caption);
            for k in first..end {
                let Some(cue) = texts.cue(k, first, end, asks, offers, written) else {
                    continue;
                };
                if let Some(object) = self.object_of(hits, &cue, first, end, protected) {
                    // A protected domain's phrase that holds the cue and its object asks for it
                    // as a whole ("send me a moto", "nitumie bodaboda"): it is the object too.
                    let holds = |h: &Hit| {
                        h.start >= cue.at
                            && h.start < object
                            && h.end > object
                            && self.rules[h.rule].effect == Effect::Match
                            && protected(&self.rules[h.rule].domain)
                    };
                    for h in hits.iter_mut().filter(|h| h.start == object || holds(h)) {
                        if cue.conditional && !protected(&self.rules[h.rule].domain) {
                            continue;
                        }
                        // "how can I sell …" asks the assistant to explain; "how can I get a
                        // moto" still asks for a ride, which must reach legacy.
                        let requests =
                            cue.requests && (!cue.to_know || protected(&self.rules[h.rule].domain));
                        h.intent = true;
                        h.requested |= requests;
                        h.asked |= requests && !cue.turn;
                    }
                }
            }
        }
    }

    /// Where the object of `cue` (in the field of words `first..end`) starts, if it has one.
    /// What is wanted is said by a noun: the first noun-like match (weight 2 or more) after the
    /// cue; else the nearest one just before it, which a verb after the cue stands for
    /// ("mfite ikibanza nshaka kukigurisha", "a plot I want to sell": the plot, not the
    /// selling); else the first match after it. A protected domain's match first after the
    /// cue and close to it wins over all of these (PROTECTED_OBJECT_REACH).
    fn object_of(
        &self,
        hits: &[Hit],
        cue: &Cue,
        first: usize,
        end: usize,
        protected: &dyn Fn(&str) -> bool,
    ) -> Option<usize> {
        let reach = (cue.at + INTENT_REACH).min(end - 1);
        let after = |h: &&Hit| {
            h.start > cue.at && h.start <= reach && self.rules[h.rule].effect == Effect::Match
        };
        let noun = |h: &&Hit| self.rules[h.rule].weight >= 2.0;
        // A protected domain's word right after the cue is what is asked for, even one that
        // only leans ("ndashaka moto injyana ku isoko", "I need a car to see the plot"): what
        // follows it is where or why, and a ride, an account or a cover asked for must not be
        // outweighed by the place it goes to. (Not after a word of ability: "naweza kubeba
        // mizigo", I can carry loads.)
        let close = |h: &&Hit| {
            !text::is_ability(cue.word)
                && h.start <= cue.at + PROTECTED_OBJECT_REACH
                && protected(&self.rules[h.rule].domain)
        };
        let before = |h: &&Hit| {
            h.end <= cue.at
                && h.start >= first
                && h.start + INTENT_REACH >= cue.at
                && self.rules[h.rule].effect == Effect::Match
        };
        let first_after = hits.iter().filter(after).min_by_key(|h| h.start);
        first_after
            .filter(close)
            .map(|h| h.start)
            .or_else(|| {
                hits.iter()
                    .filter(after)
                    .filter(noun)
                    .map(|h| h.start)
                    .min()
            })
            .or_else(|| {
                // What an earlier word of intent already asked for, if it did ("I want to rent
                // a house near the airport, do you have any?": the house).
                hits.iter()
                    .filter(before)
                    .filter(|h| h.intent)
                    .map(|h| h.start)
                    .max()
            })
            .or_else(|| {
                hits.iter()
                    .filter(before)
                    .filter(noun)
                    .map(|h| h.start)
                    .max()
            })
            .or_else(|| hits.iter().filter(after).map(|h| h.start).min())
    }

    /// A vehicle, an account or a cover sold is goods, not a ride, a profile or a cover asked
    /// for: the first match after a word of selling (text::is_selling), within GOODS_REACH
    /// words of the same clause, or the nearest before a passive of selling (text::is_sold), is
    /// excluded by the selling word's rule when it is a protected domain's word that only leans
    /// (under PROTECTED_EVIDENCE points): "je vends ma vieille voiture", "nauza gari langu",
    /// "pikipiki inauzwa" are the market's. A word that names a protected domain stays ("sell
    /// my car insurance" names a cover), as does anything after a comma or a full stop.
    fn goods(&self, texts: &Texts, hits: &mut [Hit], protected: &dyn Fn(&str) -> bool) {
        let is_match = |h: &Hit| self.rules[h.rule].effect == Effect::Match;
        // The words of selling are read among the routable domains' matches only (a few per
        // message), not among all the words.
        for s in 0..hits.len() {
            let seller = hits[s];
            let Some(field) = seller.field else {
                continue;
            };
            if !is_match(&seller) || protected(&self.rules[seller.rule].domain) {
                continue;
            }
            let k = seller.start;
            let word = texts.words[k].text;
            let active = text::is_selling(word);
            if !active && !text::is_sold(word) {
                continue;
            }
            let Some(&(_, first, end)) = texts
                .fields
                .iter()
                .find(|&&(f, a, b)| f == field && a <= k && k < b)
            else {
                continue;
            };
            let seller = seller.rule;
            let object = if active {
                hits.iter()
                    .filter(|h| is_match(h) && h.start > k && h.start <= k + GOODS_REACH)
                    .map(|h| h.start)
                    .filter(|&s| s < end)
                    .min()
            } else {
                hits.iter()
                    .filter(|h| is_match(h) && h.end <= k && h.start + GOODS_REACH >= k)
                    .map(|h| h.start)
                    .filter(|&s| s >= first)
                    .max()
            };
            let Some(object) = object else {
                continue;
            };
            let (from, to) = if active { (k, object) } else { (object, k) };
            if (from + 1..=to).any(|j| texts.gap_before(j).contains([',', '.', ';', ':', '?', '!']))
            {
                continue;
            }
            for h in hits.iter_mut().filter(|h| h.start == object) {
                let rule = &self.rules[h.rule];
                if rule.effect == Effect::Match
                    && protected(&rule.domain)
                    && rule.weight < PROTECTED_EVIDENCE
                    && h.excluded_by.is_none()
                {
                    h.excluded_by = Some(seller);
                }
            }
        }
    }

    /// Take back what exclude rules exclude: the matches of an exclude rule's domain that
    /// overlap it (`momo agent` excludes ai_agents there, not in the rest of the message).
    fn exclude(&self, hits: &mut [Hit]) {
        for x in 0..hits.len() {
            let exclude = hits[x];
            let rule = &self.rules[exclude.rule];
            if rule.effect != Effect::Exclude {
                continue;
            }
            for h in hits.iter_mut() {
                let other = &self.rules[h.rule];
                if other.effect != Effect::Exclude
                    && other.domain_ix == rule.domain_ix
                    && h.start < exclude.end
                    && exclude.start < h.end
                {
                    h.excluded_by = Some(exclude.rule);
                }
            }
        }
    }

    fn points(&self, h: &Hit) -> f32 {
        let rule = &self.rules[h.rule];
        let mut points = rule.weight * h.field.map_or(1.0, Field::factor);
        if h.intent {
            points *= INTENT_FACTOR;
        }
        if h.typo {
            points *= TYPO_FACTOR;
        }
        points
    }

    /// The domain of a message: see the module's header. `protected` says which domains
    /// the config protects.
    pub fn detect(
        &self,
        message: &Inbound,
        protected: &dyn Fn(&str) -> bool,
    ) -> Option<Detection<'_>> {
        self.run(message, protected, None)
    }

    /// Detection, with every match and score written into `explanation`.
    pub fn explain(&self, message: &Inbound, protected: &dyn Fn(&str) -> bool) -> Explanation {
        let mut explanation = Explanation::default();
        self.run(message, protected, Some(&mut explanation));
        explanation
    }

    /// Detection, step by step (the module's header says the rules): the matches of the
    /// message's words, ids and type; weak words in the business's texts dropped; what words of
    /// intent ask for marked; exclusions applied, of exclude rules, of goods sold and of
    /// content given to work on; the matches that count, once each; the scores per domain; the winner, a close
    /// protected domain before a routable one; what the winner's matches say of the message.
    /// With `explain`, every match, score and reason is also written there.
    fn run(
        &self,
        message: &Inbound,
        protected: &dyn Fn(&str) -> bool,
        explain: Option<&mut Explanation>,
    ) -> Option<Detection<'_>> {
        if self.rules.is_empty() {
            return None;
        }
        let mut buffer = String::new();
        let texts = Self::texts(message, &mut buffer);
        let mut hits = self.hits(message, &texts);
        self.drop_weak_in_business_text(&mut hits);
        if hits.is_empty() {
            return None;
        }
        self.mark_intent(&texts, &mut hits, protected);
        self.exclude(&mut hits);
        self.goods(&texts, &mut hits, protected);
        self.quote(&texts, &mut hits, protected);
        let counted = self.count(&hits, explain.is_some());
        let tally = self.tally(&hits, &counted.matches);
        let scoring = Scoring {
            hits,
            counted,
            tally,
        };
        let (winner, note) = self.pick(&scoring, protected, explain.is_some());
        let detection = winner.and_then(|d| self.detection(d, message, &texts, &scoring));
        if let Some(explanation) = explain {
            self.write_explanation(explanation, message, &texts, &scoring, detection.as_ref());
            explanation.note = note;
        }
        detection
    }

    /// The matches that count: best first (points, then the rule's priority, then its id), a
    /// rule once, at its best, and a stretch of text once per domain (a phrase and the words
    /// inside it are one piece of evidence). Exclude rules and what they excluded do not
    /// count. `explaining`: also keep why each other match did not count.
    fn count(&self, hits: &[Hit], explaining: bool) -> Counted {
        let mut order: Vec<(usize, f32)> = hits
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                h.excluded_by.is_none() && self.rules[h.rule].effect != Effect::Exclude
            })
            .map(|(ix, h)| (ix, self.points(h)))
            .collect();
        let key = |&(ix, p): &(usize, f32)| {
            let r = &self.rules[hits[ix].rule];
            (-p, r.priority, r.id)
        };
        order.sort_by(|a, b| {
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut matches: Vec<(usize, f32)> = Vec::new();
        let mut fate: Vec<Option<Status>> = vec![None; if explaining { hits.len() } else { 0 }];
        for &(ix, p) in &order {
            let h = hits[ix];
            let domain = self.rules[h.rule].domain_ix;
            let not_counted = if matches.iter().any(|&(c, _)| hits[c].rule == h.rule) {
                Some(Status::Repeat)
            } else if matches.iter().any(|&(c, _)| {
                self.rules[hits[c].rule].domain_ix == domain
                    && hits[c].start < h.end
                    && h.start < hits[c].end
            }) {
                Some(Status::Covered)
            } else {
                matches.push((ix, p));
                None
            };
            if explaining {
                fate[ix] = not_counted;
            }
        }
        Counted { matches, fate }
    }

    /// The scores per domain of the matches that count, and each domain's best rule: weak
    /// rules only count when no match rule does.
    fn tally(&self, hits: &[Hit], counted: &[(usize, f32)]) -> Tally {
        let strong = counted
            .iter()
            .any(|&(c, _)| self.rules[hits[c].rule].effect == Effect::Match);
        let mut scores = vec![Score::default(); self.domains.len()];
        for &(c, p) in counted {
            let rule = &self.rules[hits[c].rule];
            let s = &mut scores[rule.domain_ix];
            match rule.effect {
                Effect::Match => s.matched += p,
                Effect::Weak => s.weak += p,
                Effect::Exclude => {}
            }
            if s.best.is_none() && (rule.effect == Effect::Match || !strong) {
                s.best = Some(hits[c].rule);
                s.best_points = p;
            }
        }
        Tally { scores, strong }
    }

    /// How domain `d` ranks: its score, then its strongest match, then its best rule's
    /// priority (lowest first), then that rule's id (lowest first).
    fn rank(&self, tally: &Tally, d: usize) -> (f32, f32, i32, i64) {
        let s = &tally.scores[d];
        let rule = s.best.map(|r| &self.rules[r]);
        (
            tally.score(d),
            s.best_points,
            -rule.map_or(i32::MAX, |r| r.priority),
            -rule.map_or(i64::MAX, |r| r.id),
        )
    }

    /// The winning domain, and (`explaining`) why the best ranked did not win, when it did
    /// not: the best ranked wins if it scores MIN_SCORE or more (any score, when only weak
    /// rules count); a routable winner then gives way to the best protected domain within
    /// its margin (Rules::margin): detection errs towards the legacy handler.
    fn pick(
        &self,
        scoring: &Scoring,
        protected: &dyn Fn(&str) -> bool,
        explaining: bool,
    ) -> (Option<usize>, Option<String>) {
        let tally = &scoring.tally;
        let candidates = (0..self.domains.len())
            .filter(|&d| tally.score(d) > 0.0 && tally.scores[d].best.is_some());
        let by_rank = |a: &usize, b: &usize| {
            self.rank(tally, *a)
                .partial_cmp(&self.rank(tally, *b))
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        let top = candidates.clone().max_by(by_rank);
        let Some(w) = top.filter(|&d| !tally.strong || tally.score(d) >= MIN_SCORE) else {
            let note = (explaining && tally.strong)
                .then(|| format!("no domain scores {MIN_SCORE} or more"));
            return (None, note);
        };
        if protected(&self.domains[w]) {
            return (Some(w), None);
        }
        let guard = candidates
            .filter(|&d| protected(&self.domains[d]))
            .max_by(by_rank)
            .map(|p| (p, self.margin(p, scoring)))
            .filter(|&(p, margin)| tally.score(p) * margin >= tally.score(w));
        let Some((p, margin)) = guard else {
            return (Some(w), None);
        };
        let note = explaining.then(|| {
            format!(
                "protected {} ({:.2}) is within a factor {} of {} ({:.2})",
                self.domains[p],
                tally.score(p),
                margin,
                self.domains[w],
                tally.score(w)
            )
        });
        (Some(p), note)
    }

    /// The factor a routable domain must exceed protected domain `p` by: PROTECTED_CLEAR when
    /// a match of `p` that counts is worth PROTECTED_EVIDENCE points or more (a word that
    /// names it), else PROTECTED_CLOSE.
    fn margin(&self, p: usize, scoring: &Scoring) -> f32 {
        let real = scoring.counted.matches.iter().any(|&(c, points)| {
            let rule = &self.rules[scoring.hits[c].rule];
            rule.domain_ix == p && rule.effect == Effect::Match && points >= PROTECTED_EVIDENCE
        });
        if real {
            PROTECTED_CLEAR
        } else {
            PROTECTED_CLOSE
        }
    }

    /// Whether a match of domain `d` that counts passes `test`.
    fn counted_any(&self, d: usize, scoring: &Scoring, test: impl Fn(&Hit) -> bool) -> bool {
        scoring.counted.matches.iter().any(|&(c, _)| {
            let h = &scoring.hits[c];
            self.rules[h.rule].domain_ix == d && test(h)
        })
    }

    /// What detection says of the winner `d`: its best rule and score, and what its counted
    /// matches say of the message (decisive, picked, requested, asked; see Detection).
    fn detection(
        &self,
        d: usize,
        message: &Inbound,
        texts: &Texts,
        scoring: &Scoring,
    ) -> Option<Detection<'_>> {
        let best = scoring.tally.scores[d].best?;
        Some(Detection {
            domain: &self.domains[d],
            rule_id: self.rules[best].id,
            weak: !scoring.tally.strong,
            score: scoring.tally.score(d),
            decisive: self.counted_any(d, scoring, |h| h.intent || h.picked()),
            picked: self.counted_any(d, scoring, Hit::picked),
            requested: self.counted_any(d, scoring, |h| h.requested || h.picked()),
            asked: self.counted_any(d, scoring, |h| h.asked || h.picked()),
            question: is_question(message, texts),
            labelled: !self.counted_any(d, scoring, |h| !h.labelled()),
            named: scoring
                .counted
                .matches
                .iter()
                .filter(|&&(c, _)| {
                    let h = &scoring.hits[c];
                    self.rules[h.rule].domain_ix == d
                        && self.rules[h.rule].effect == Effect::Match
                        && matches!(h.field, Some(Field::Body | Field::Caption))
                })
                .map(|&(_, points)| points)
                .sum(),
            own: texts.fields.iter().any(|&(f, first, end)| {
                matches!(f, Field::Body | Field::Caption)
                    && (first..end).any(|k| text::is_own(texts.words[k].text))
            }),
        })
    }

    /// Every match, with why it counted or not, the scores and the decision, written into
    /// `explanation` for explain_route.
    fn write_explanation(
        &self,
        explanation: &mut Explanation,
        message: &Inbound,
        texts: &Texts,
        scoring: &Scoring,
        detection: Option<&Detection>,
    ) {
        for (ix, h) in scoring.hits.iter().enumerate() {
            let rule = &self.rules[h.rule];
            let status = if rule.effect == Effect::Exclude {
                Status::Excludes
            } else if let Some(x) = h.excluded_by {
                Status::Excluded(self.rules[x].id)
            } else if let Some(f) = scoring.counted.fate[ix] {
                f
            } else if rule.effect == Effect::Weak && scoring.tally.strong {
                Status::WeakIgnored
            } else {
                Status::Counted
            };
            explanation.matches.push(Explained {
                rule: rule.clone(),
                field: texts.field_name(h),
                matched: texts.matched(h, message),
                points: if status == Status::Excludes {
                    0.0
                } else {
                    self.points(h)
                },
                status,
            });
        }
        let scores = &scoring.tally.scores;
        let mut listed: Vec<(String, f32, f32)> = (0..self.domains.len())
            .filter(|&d| scores[d].matched > 0.0 || scores[d].weak > 0.0)
            .map(|d| (self.domains[d].clone(), scores[d].matched, scores[d].weak))
            .collect();
        listed.sort_by(|a, b| {
            (b.1, b.2)
                .partial_cmp(&(a.1, a.2))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        explanation.scores = listed;
        explanation.decision = detection.map(|d| (d.domain.to_owned(), d.weak));
        explanation.request = detection.and_then(Detection::request);
    }
}

/// Every (rule id, start, end, typo) the index finds in a message, sorted: what the reference
/// matcher of the tests must find too.
#[cfg(any(test, feature = "pg_test"))]
impl Rules {
    fn hit_set(&self, message: &Inbound) -> Vec<(i64, usize, usize, bool)> {
        let mut buffer = String::new();
        let texts = Self::texts(message, &mut buffer);
        let mut hits: Vec<_> = self
            .hits(message, &texts)
            .into_iter()
            .map(|h| (self.rules[h.rule].id, h.start, h.end, h.typo))
            .collect();
        hits.sort_unstable();
        hits.dedup();
        hits
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use crate::core::text::Field;
    use pgrx::prelude::*;

    const PROTECTED: [&str; 3] = ["mobility", "profile", "insurance"];

    fn protected(d: &str) -> bool {
        PROTECTED.contains(&d)
    }

    fn rule(id: i64, domain: &str, kind: MatchKind, pattern: &str) -> Rule {
        Rule::new(id, domain, kind, pattern, 100).unwrap()
    }

    fn keyword(id: i64, domain: &str, pattern: &str, effect: Effect, weight: Option<f32>) -> Rule {
        rule(id, domain, MatchKind::Keyword, pattern).with(effect, weight, None)
    }

    /// A small rule set that shows each part of the scoring.
    fn rules() -> Rules {
        use Effect::*;
        Rules::new(vec![
            rule(1, "jobs", MatchKind::IdPrefix, "jobs_"),
            rule(2, "mobility", MatchKind::MessageType, "location").with(Weak, None, None),
            rule(3, "marketplace", MatchKind::MessageType, "order"),
            keyword(4, "jobs", "job*", Match, Some(3.0)),
            keyword(5, "jobs", "looking for work", Match, None),
            keyword(6, "mobility", "driver", Match, None),
            keyword(7, "marketplace", "sell*", Match, Some(1.0)),
            keyword(8, "mobility", "motorbike", Match, Some(1.0)),
            keyword(9, "insurance", "insurance", Match, None),
            keyword(10, "property", "house", Match, None),
            keyword(11, "property", "rent", Match, Some(1.0)),
            keyword(12, "mobility", "rent a car", Match, None),
            keyword(13, "property", "rent a car", Exclude, None),
            keyword(14, "ai_agents", "agent", Match, None),
            keyword(15, "ai_agents", "momo agent", Exclude, None),
            keyword(16, "marketplace", "for sale", Match, Some(1.0)),
            keyword(17, "property", "*kodesh*", Match, None),
            keyword(18, "jobs", "employment", Match, None),
            keyword(19, "ai_agents", "ai", Match, None),
            keyword(20, "profile", "my number", Match, Some(1.0)),
        ])
    }

    fn text(t: &str) -> Inbound<'_> {
        Inbound {
            kind: Some("text"),
            texts: vec![(Field::Body, t)],
            ..Default::default()
        }
    }

    fn found<'r>(rules: &'r Rules, m: &Inbound) -> Option<(&'r str, bool)> {
        rules.detect(m, &protected).map(|d| (d.domain, d.weak))
    }

    /// The scoring rule of the module's header, case by case.
    #[pg_test]
    fn scores_decide_the_domain() {
        let r = rules();
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("Looking for work", Some("jobs"), "a phrase"),
            ("Any JOBS today?", Some("jobs"), "a stem, any case"),
            ("jobseeker here", Some("jobs"), "a stem"),
            ("objob", None, "a stem starts a word"),
            ("need a driver", Some("mobility"), "a word"),
            (
                "I need a job as a driver",
                Some("jobs"),
                "the thing wanted outweighs a mention",
            ),
            (
                "I want to sell my motorbike",
                Some("marketplace"),
                "intent: the first match after want",
            ),
            (
                "house for sale",
                Some("property"),
                "a noun outweighs a leaning phrase",
            ),
            (
                "I want to rent a car",
                Some("mobility"),
                "a phrase, and its exclusion of rent",
            ),
            (
                "insurance for my motorbike",
                Some("insurance"),
                "word 2 against leaning word 1",
            ),
            (
                "house insurance",
                Some("insurance"),
                "protected wins when close",
            ),
            (
                "my number is 0788000111, I want the house",
                Some("property"),
                "a mention is not an intent",
            ),
            ("momo agent", None, "an exclusion in its context"),
            (
                "I want to talk to an agent",
                Some("ai_agents"),
                "the same word elsewhere",
            ),
            (
                "the momo agent sent me to your AI agent",
                Some("ai_agents"),
                "only where the exclusion stands",
            ),
            ("ndakodesha inzu", Some("property"), "a root inside a word"),
            ("employmnet please", Some("jobs"), "one edit away"),
            ("emplo", None, "too far"),
            ("J'ai une question", None, "j'ai is not AI"),
            (
                "Je veux parler à l'AI",
                Some("ai_agents"),
                "l' is not a pronoun",
            ),
            ("for sale", Some("marketplace"), "a score of 1 is enough"),
            ("", None, "nothing"),
        ];
        for (t, expected, why) in cases {
            assert_eq!(found(&r, &text(t)).map(|f| f.0), *expected, "{t:?}: {why}");
        }
    }

    #[pg_test]
    fn ids_types_weak_rules_and_fields() {
        let r = rules();
        let id = Inbound {
            kind: Some("interactive"),
            ids: vec!["JOBS_post"],
            texts: vec![(Field::Title, "Sell a house")],
            ..Default::default()
        };
        assert_eq!(
            found(&r, &id),
            Some(("jobs", false)),
            "an id outweighs the text"
        );
        let location = Inbound {
            kind: Some("location"),
            ..Default::default()
        };
        let d = r.detect(&location, &protected).unwrap();
        assert_eq!((d.domain, d.rule_id, d.weak), ("mobility", 2, true));
        let location_with_text = Inbound {
            kind: Some("location"),
            texts: vec![(Field::Body, "the house is here")],
            ..Default::default()
        };
        assert_eq!(
            found(&r, &location_with_text),
            Some(("property", false)),
            "a weak rule yields to any match"
        );
        let order = Inbound {
            kind: Some("order"),
            ..Default::default()
        };
        assert_eq!(found(&r, &order), Some(("marketplace", false)));
        // A description weighs half a title: "house" (2 x 0.5) against "jobs" (3 x 1).
        let list = Inbound {
            kind: Some("interactive"),
            texts: vec![(Field::Title, "Jobs"), (Field::Description, "house")],
            ..Default::default()
        };
        assert_eq!(found(&r, &list), Some(("jobs", false)));
        // Below a score of 1, nothing: a leaning word in a description.
        let faint = Inbound {
            texts: vec![(Field::Description, "rent")],
            ..Default::default()
        };
        assert_eq!(found(&r, &faint), None);
        // A phrase never spans two fields.
        let split = Inbound {
            texts: vec![(Field::Body, "looking for"), (Field::Caption, "work")],
            ..Default::default()
        };
        assert_eq!(found(&r, &split), None);
    }

    #[pg_test]
    fn explain_shows_every_match_and_score() {
        let r = rules();
        let e = r.explain(&text("I want to rent a car, not a house"), &protected);
        let statuses: Vec<(i64, Status, String)> = e
            .matches
            .iter()
            .map(|m| (m.rule.id, m.status, m.matched.clone()))
            .collect();
        assert!(
            statuses.contains(&(12, Status::Counted, "rent a car".into())),
            "{statuses:?}"
        );
        assert!(
            statuses.contains(&(11, Status::Excluded(13), "rent".into())),
            "{statuses:?}"
        );
        assert!(
            statuses.contains(&(13, Status::Excludes, "rent a car".into())),
            "{statuses:?}"
        );
        assert!(
            statuses.contains(&(10, Status::Counted, "house".into())),
            "{statuses:?}"
        );
        assert_eq!(e.decision, Some(("mobility".to_owned(), false)));
        assert_eq!(e.scores[0].0, "mobility");
        assert_eq!(e.scores[0].1, 6.0, "a phrase (3) after want (x2)");
        let covered = r.explain(&text("job job"), &protected);
        assert_eq!(
            covered.matches.iter().map(|m| m.status).collect::<Vec<_>>(),
            [Status::Counted, Status::Repeat]
        );
    }

    #[pg_test]
    fn unusable_patterns_are_refused() {
        assert!(Rule::new(9, "x", MatchKind::Keyword, "***", 1).is_none());
        assert!(Rule::new(9, "x", MatchKind::Keyword, "*ab*", 1).is_none());
        assert!(Rule::new(9, "x", MatchKind::Keyword, "*two words*", 1).is_none());
        assert!(Rule::new(9, "x", MatchKind::IdPrefix, "  ", 1).is_none());
        // A prefix that would cut a multi-byte character simply does not match.
        let rules = Rules::new(vec![
            Rule::new(1, "a", MatchKind::IdPrefix, "a", 1).unwrap(),
            Rule::new(2, "b", MatchKind::IdPrefix, "är", 2).unwrap(),
        ]);
        let id = |id| Inbound {
            ids: vec![id],
            ..Default::default()
        };
        assert_eq!(
            rules.detect(&id("Ärger_x"), &protected).map(|d| d.domain),
            Some("b")
        );
        assert_eq!(rules.detect(&id("Ä"), &protected), None);
    }

    /// One edit: a letter missing, extra, replaced, two neighbours swapped; nothing more.
    #[pg_test]
    fn one_edit_is_one_edit() {
        let yes = [
            ("employment", "employmnet"),
            ("employment", "employmen"),
            ("employment", "employmentt"),
            ("employment", "empolyment"),
            ("employment", "employment"),
            ("abc", "abd"),
        ];
        let no = [
            ("employment", "emplymnet"),
            ("employment", "employ"),
            ("abxcd", "abcyd"),
            ("ab", "ba c"),
        ];
        for (a, b) in yes {
            assert!(
                one_edit(a.as_bytes(), b.as_bytes()) && one_edit(b.as_bytes(), a.as_bytes()),
                "{a} {b}"
            );
        }
        for (a, b) in no {
            assert!(
                !one_edit(a.as_bytes(), b.as_bytes()) && !one_edit(b.as_bytes(), a.as_bytes()),
                "{a} {b}"
            );
        }
    }

    /// The matches as the module's header says them, tried one rule at a time at every word:
    /// what the index must find.
    fn reference(rules: &[Rule], message: &Inbound) -> Vec<(i64, usize, usize, bool)> {
        let mut normalized = Vec::new();
        for (f, t) in &message.texts {
            let mut n = String::new();
            if *f == Field::FlowReply {
                let mut split = String::new();
                text::id_text(bounded(t, MAX_TEXT_BYTES), &mut split);
                text::normalize_into(&split, &mut n);
            } else {
                text::normalize_into(bounded(t, MAX_TEXT_BYTES), &mut n);
            }
            normalized.push(n);
        }
        for id in &message.ids {
            let (mut split, mut n) = (String::new(), String::new());
            text::id_text(bounded(id, MAX_ID_BYTES), &mut split);
            text::normalize_into(&split, &mut n);
            normalized.push(n);
        }
        let mut fields: Vec<Vec<Word>> = Vec::new();
        for n in &normalized {
            let mut w = Vec::new();
            text::push_words(n, &mut w);
            fields.push(w);
        }
        let n: usize = fields.iter().map(Vec::len).sum();
        // Words that can be mistyped: the whole words of patterns (not stems, not roots).
        let mut known: Vec<&str> = Vec::new();
        for r in rules.iter().filter(|r| r.kind == MatchKind::Keyword) {
            match r.shape {
                Shape::Words => known.extend(r.words.iter().map(String::as_str)),
                Shape::Stem => {
                    known.extend(r.words[..r.words.len() - 1].iter().map(String::as_str))
                }
                Shape::Root => {}
            }
        }
        let typo = |w: &str| -> Option<String> {
            if w.len() < TYPO_MIN_LEN
                || w.len() > MAX_SCANNED_WORD
                || !w.bytes().all(|b| b.is_ascii_lowercase())
                || known.contains(&w)
            {
                return None;
            }
            let mut near: Vec<&str> = known
                .iter()
                .copied()
                .filter(|k| k.len() >= TYPO_MIN_LEN && k.bytes().all(|b| b.is_ascii_lowercase()))
                .filter(|k| {
                    k.as_bytes()[0] == w.as_bytes()[0] && one_edit(k.as_bytes(), w.as_bytes())
                })
                .collect();
            near.sort_unstable();
            near.dedup();
            (near.len() == 1).then(|| near[0].to_owned())
        };
        let fits = |p: &str, w: &Word| !(w.after_pronoun && p.len() <= 2);
        let mut out = Vec::new();
        for r in rules {
            match r.kind {
                MatchKind::IdPrefix => {
                    for (k, id) in message.ids.iter().enumerate() {
                        if bounded(id, MAX_ID_BYTES)
                            .to_lowercase()
                            .starts_with(&r.pattern)
                        {
                            out.push((r.id, n + 1 + k, n + 2 + k, false));
                        }
                    }
                }
                MatchKind::MessageType => {
                    if message
                        .kind
                        .is_some_and(|k| bounded(k, MAX_ID_BYTES).to_lowercase() == r.pattern)
                    {
                        out.push((r.id, n, n + 1, false));
                    }
                }
                MatchKind::Keyword => {
                    let mut base = 0;
                    for words in &fields {
                        for p in 0..words.len() {
                            if r.shape == Shape::Root {
                                let w = words[p].text;
                                if w.len() <= MAX_SCANNED_WORD && w.contains(r.words[0].as_str()) {
                                    out.push((r.id, base + p, base + p + 1, false));
                                }
                                continue;
                            }
                            let Some(window) = words.get(p..p + r.words.len()) else {
                                continue;
                            };
                            let last = r.words.len() - 1;
                            let mut typoed = false;
                            let all =
                                window.iter().zip(&r.words).enumerate().all(|(i, (w, pw))| {
                                    if i == last && r.shape == Shape::Stem {
                                        w.text.starts_with(pw.as_str()) && fits(pw, w)
                                    } else if w.text == pw {
                                        fits(pw, w)
                                    } else if typo(w.text).as_deref() == Some(pw.as_str()) {
                                        typoed = true;
                                        true
                                    } else {
                                        false
                                    }
                                });
                            if all {
                                out.push((r.id, base + p, base + p + r.words.len(), typoed));
                            }
                        }
                        base += words.len();
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The indexed matcher finds what the plain one finds, on 3,000 generated rule sets and
    /// messages: phrases, stems of every length, roots, typos of long words, elisions, ids of
    /// several prefixes, mixed case, fields that split a phrase.
    #[pg_test]
    fn the_index_finds_what_trying_every_rule_finds() {
        let vocab = [
            "job",
            "jobs",
            "a",
            "for",
            "sale",
            "rent",
            "house",
            "car",
            "kazi",
            "akazi",
            "in",
            "my",
            "ai",
            "employment",
            "employmnet",
            "emploiement",
            "apartment",
            "apartmemt",
            "gukodesha",
            "ndakodesha",
            "marketing",
            "marketinh",
            "marketinn",
            "j",
            "l",
        ];
        let mut state: u64 = 42;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n
        };
        for case in 0..3_000 {
            let mut rules = Vec::new();
            for id in 0..(1 + next(12)) {
                let kind = match next(6) {
                    0 => MatchKind::IdPrefix,
                    1 => MatchKind::MessageType,
                    _ => MatchKind::Keyword,
                };
                let pattern = match kind {
                    MatchKind::Keyword => match next(8) {
                        0 => ["*kodesh*", "*kaz*", "*ment*", "*aiz*"][next(4)].to_owned(),
                        _ => {
                            let mut words: Vec<String> = (0..1 + next(3))
                                .map(|_| vocab[next(vocab.len())].to_owned())
                                .collect();
                            if next(3) == 0 {
                                let last = words.pop().unwrap();
                                words.push(format!("{}*", &last[..1 + next(last.len())]));
                            }
                            words.join(" ")
                        }
                    },
                    MatchKind::IdPrefix => ["jobs_", "job", "j", "sale_", "Ä"][next(5)].to_owned(),
                    MatchKind::MessageType => ["text", "location", "order"][next(3)].to_owned(),
                };
                if let Some(rule) = Rule::new(
                    id as i64,
                    ["d1", "d2", "d3"][next(3)],
                    kind,
                    &pattern,
                    next(4) as i32,
                ) {
                    rules.push(rule);
                }
            }
            let texts: Vec<String> = (0..next(3))
                .map(|_| {
                    (0..next(8))
                        .map(|_| {
                            let w = vocab[next(vocab.len())];
                            match next(5) {
                                0 => w.to_uppercase(),
                                1 => format!("{w}s"),
                                _ => w.to_owned(),
                            }
                        })
                        .collect::<Vec<_>>()
                        .join([" ", ", ", "!", "'"][next(4)])
                })
                .collect();
            let ids: Vec<String> = (0..next(3))
                .map(|_| ["JOBS_x", "jobx", "sale_1", "Äpfel", "x"][next(5)].to_owned())
                .collect();
            let message = Inbound {
                kind: Some(["text", "Location", "order", "image"][next(4)]),
                texts: texts.iter().map(|t| (Field::Body, t.as_str())).collect(),
                ids: ids.iter().map(String::as_str).collect(),
                ..Default::default()
            };
            let indexed = Rules::new(rules.clone());
            assert_eq!(
                indexed.hit_set(&message),
                reference(&rules, &message),
                "case {case}: {rules:?} {message:?}"
            );
        }
    }

    /// A long scan calls the check for a cancel it was given every 1,024 words (the server's,
    /// src/pg/config_load.rs): twice in a text of 2,500 words.
    #[pg_test]
    fn long_scans_call_the_hosts_interrupt_check() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static CHECKS: AtomicUsize = AtomicUsize::new(0);
        let long = "word ".repeat(2500);
        let checking = rules().with_interrupts(|| {
            CHECKS.fetch_add(1, Ordering::Relaxed);
        });
        checking.detect(&text(&long), &protected);
        assert_eq!(CHECKS.load(Ordering::Relaxed), 2);
    }

    /// Text beyond the bound is not read; a bound never cuts a character.
    #[pg_test]
    fn long_texts_are_read_up_to_the_bound() {
        let rules = rules();
        let far = format!("{} any jobs?", "é".repeat(MAX_TEXT_BYTES));
        assert_eq!(rules.detect(&text(&far), &protected), None);
        let near = format!("jobs {}", "é".repeat(MAX_TEXT_BYTES));
        assert_eq!(
            rules.detect(&text(&near), &protected).map(|d| d.domain),
            Some("jobs")
        );
        assert_eq!(bounded("aé", 2), "a");
        assert_eq!(bounded("aé", 3), "aé");
    }

    /// Kinyarwanda drops a noun's initial vowel after a preposition or a negation: a rule's
    /// word matches both ways, in Kinyarwanda rules only, and a dropped form is never matched
    /// one edit away.
    #[pg_test]
    fn kinyarwanda_nouns_match_without_their_augment() {
        let words = |ws: &[&str]| ws.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        let all = spellings(&words(&["impanuka", "y", "imodoka"]), true);
        assert_eq!(all.len(), 4, "{all:?}");
        assert!(all.contains(&words(&["mpanuka", "y", "modoka"])));
        assert!(all.contains(&words(&["impanuka", "y", "modoka"])));
        // Too short, a vowel after the first letter, or not Kinyarwanda: as written only.
        assert_eq!(spellings(&words(&["inka"]), true).len(), 1);
        assert_eq!(spellings(&words(&["uaeb"]), true).len(), 1);
        assert_eq!(spellings(&words(&["insurance"]), false).len(), 1);
        let rules = Rules::new(vec![
            rule(1, "insurance", MatchKind::Keyword, "impanuka").with(
                Effect::Match,
                None,
                Some("rw".into()),
            ),
            rule(2, "insurance", MatchKind::Keyword, "umusanzu").with(
                Effect::Match,
                None,
                Some("rw".into()),
            ),
        ]);
        let none = |_: &str| false;
        assert_eq!(
            rules
                .detect(&text("nagize ikibazo mu mpanuka"), &none)
                .map(|d| d.domain),
            Some("insurance")
        );
        assert_eq!(
            rules
                .detect(&text("ndi i musanze"), &none)
                .map(|d| d.domain),
            None
        );
    }

    /// Asking the service to send or bring something is a request for it, in the user's own
    /// text and outside a question that asks to know; a protected phrase holding the ask and
    /// its object is asked for as a whole.
    #[pg_test]
    fn sending_for_something_requests_it() {
        use Effect::*;
        let rules = Rules::new(vec![
            keyword(1, "mobility", "moto", Match, Some(1.0)),
            keyword(2, "mobility", "send me a moto", Match, Some(3.0)),
            keyword(3, "jobs", "interview*", Match, Some(1.5)),
            keyword(4, "profile", "alerts", Match, Some(1.0)),
            keyword(5, "property", "chumba", Match, None),
            keyword(6, "mobility", "bodaboda", Match, None),
            keyword(7, "ai_agents", "which documents", Match, Some(3.5)),
            keyword(8, "marketplace", "seller", Match, None),
        ]);
        let d = rules
            .detect(
                &text("wait, first send me a moto, I'm late for an interview"),
                &protected,
            )
            .unwrap();
        assert_eq!((d.domain, d.asked, d.score), ("mobility", true, 6.0));
        let d = rules
            .detect(&text("nitumie bodaboda nije kuona chumba"), &protected)
            .unwrap();
        assert_eq!((d.domain, d.asked), ("mobility", true));
        // Asking to know: the seller shows, the service is asked nothing.
        let d = rules
            .detect(
                &text("which documents should the seller show me?"),
                &protected,
            )
            .unwrap();
        assert!(!d.asked && !d.requested, "{d:?}");
        // A button's label is the business's words.
        let button = Inbound {
            kind: Some("button"),
            texts: vec![(Field::ButtonText, "Yes, send me alerts")],
            ..Default::default()
        };
        assert!(!rules.detect(&button, &protected).unwrap().asked);
    }

    /// An explanation asked in general takes a protected domain's words as its topic too;
    /// asked of one's own case, they stay the protected domain's.
    #[pg_test]
    fn an_explanation_asked_in_general_is_the_assistants() {
        use Effect::*;
        let rules = Rules::new(vec![
            keyword(1, "ai_agents", "explain", Match, Some(TOPIC_ASK)),
            keyword(2, "insurance", "insurance", Match, Some(3.0)),
            keyword(3, "ai_agents", "in general", Match, Some(1.5)),
            keyword(4, "jobs", "job", Match, None),
        ]);
        let cases: &[(&str, &str)] = &[
            ("explain how car insurance works, in general", "ai_agents"),
            ("explain how car insurance works", "insurance"),
            ("explain why my insurance claim was refused", "insurance"),
            ("explain in general how my insurance works", "insurance"),
            // The general words must follow no ask to count: without one, insurance is named.
            ("in general my insurance is late", "insurance"),
            ("explain a job interview in general", "ai_agents"),
        ];
        for (said, domain) in cases {
            let d = rules.detect(&text(said), &protected).unwrap();
            assert_eq!(d.domain, *domain, "{said}");
        }
    }

    /// A word of asking after a question word asks to know, and requests no routable
    /// domain's object: "how can I sell …" asks for an explanation; a protected domain's object
    /// is still requested ("how can I get a moto").
    #[pg_test]
    fn asking_how_requests_nothing_routable() {
        use Effect::*;
        let rules = Rules::new(vec![
            keyword(1, "marketplace", "sell", Match, None),
            keyword(2, "mobility", "moto", Match, None),
            keyword(3, "property", "rent", Match, None),
        ]);
        let found = |t: &str| {
            let d = rules.detect(&text(t), &protected).unwrap();
            (d.domain, d.requested, d.asked)
        };
        assert_eq!(
            found("how can I sell my phone?"),
            ("marketplace", false, false)
        );
        assert_eq!(
            found("jinsi gani naweza sell?"),
            ("marketplace", false, false)
        );
        assert_eq!(
            found("can I sell my phone here?"),
            ("marketplace", true, true)
        );
        assert_eq!(found("how can I get a moto?"), ("mobility", true, true));
        // Across the subject: what the landlord wants is not the writer's request.
        assert_eq!(
            found("can he raise the rent when he wants?"),
            ("property", false, false)
        );
        // In a condition, what someone would want is not the writer's request; a ride wanted
        // in one still is (the safe direction), and a clause ended before the wanting is none.
        assert_eq!(
            found("my number is 0788 if the agent wants to rent"),
            ("property", false, false)
        );
        assert_eq!(found("niba ashaka rent"), ("property", false, false));
        assert_eq!(
            found("appelez-moi s'il veut rent"),
            ("property", false, false)
        );
        assert_eq!(
            found("s'il vous plait je veux rent"),
            ("property", true, true)
        );
        assert_eq!(found("if I need a moto tomorrow"), ("mobility", true, true));
        assert_eq!(found("if so, I want to rent"), ("property", true, true));
        // Kinyarwanda's "could you give me", in a yes/no question too.
        assert_eq!(found("ese mwampa moto?"), ("mobility", true, true));
    }

    /// Labels and the user's words: what `follow` reads of where a domain's matches are.
    #[pg_test]
    fn labels_and_named_words() {
        use Effect::*;
        let rules = Rules::new(vec![
            keyword(1, "marketplace", "phone shop", Match, None),
            keyword(2, "insurance", "insur*", Match, Some(3.0)),
            keyword(3, "insurance", "claim", Match, None),
        ]);
        let row = Inbound {
            kind: Some("interactive"),
            ids: vec!["opt_4"],
            texts: vec![(Field::Title, "Phone shop seller")],
            ..Default::default()
        };
        let d = rules.detect(&row, &protected).unwrap();
        assert!(d.labelled && d.named == 0.0, "{d:?}");
        let d = rules
            .detect(&text("my insurance claim, how?"), &protected)
            .unwrap();
        assert_eq!((d.domain, d.labelled, d.named), ("insurance", false, 5.0));
    }

    /// A vehicle sold is the market's goods, however the sentence places it; a ride asked
    /// for beside a sale is not.
    #[pg_test]
    fn a_vehicle_sold_is_goods() {
        use Effect::*;
        let rules = Rules::new(vec![
            keyword(1, "marketplace", "vends", Match, Some(1.0)),
            keyword(2, "marketplace", "*gurish*", Match, Some(1.0)),
            keyword(3, "mobility", "voiture", Match, Some(1.0)),
            keyword(4, "mobility", "moto", Match, Some(1.0)),
            keyword(5, "mobility", "taxi", Match, None),
        ]);
        for t in [
            "je vends ma vieille voiture",
            "ndagurisha moto yanjye",
            "moto igurishwa",
        ] {
            assert_eq!(found(&rules, &text(t)), Some(("marketplace", false)), "{t}");
        }
        // A word that names the ride stays, and a clause apart is no object.
        assert_eq!(
            found(&rules, &text("je vends, voiture svp")).map(|d| d.0),
            Some("mobility")
        );
        assert_eq!(
            found(&rules, &text("je vends un taxi")).map(|d| d.0),
            Some("mobility")
        );
    }
}
