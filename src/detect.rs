//! Which domain a message belongs to, from the operator-editable `webhook_routing_rules`.
//!
//! Three kinds of rule:
//! - `id_prefix`: an interactive reply id or template button payload starts with the pattern
//!   (case-insensitive), e.g. `jobs_` for `jobs_post_vacancy`;
//! - `message_type`: the message `type` equals the pattern, e.g. `location` → mobility;
//! - `keyword`: the pattern's words appear, in order and whole, in the message text (body,
//!   captions, button and list titles), case-insensitively. A trailing `*` matches any word
//!   starting with the stem: `job*` matches job, jobs, jobseeker.
//!
//! Among the rules that match, the lowest `priority` wins; on a tie an id or type rule beats a
//! keyword, then the keyword found earliest in the text, then the lowest rule id. The seeds give
//! protected domains a better priority than routable ones, so a message that mentions both stays
//! with its protected (legacy) handler.
use crate::whatsapp::Inbound;
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
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: i64,
    pub domain: String,
    pub kind: MatchKind,
    pub priority: i32,
    /// id_prefix / message_type: the lowercased pattern. keyword: unused.
    pattern: String,
    /// keyword: the lowercased words; the last one is a stem when `stem` is set.
    words: Vec<String>,
    stem: bool,
}

impl Rule {
    /// Compile a rule row. None for a pattern that can never match (no letters or digits).
    pub fn new(
        id: i64,
        domain: &str,
        kind: MatchKind,
        pattern: &str,
        priority: i32,
    ) -> Option<Self> {
        let lowered = pattern.trim().to_lowercase();
        let (words, stem) = if kind == MatchKind::Keyword {
            let stem = lowered.ends_with('*');
            let words = tokenize(&lowered);
            if words.is_empty() {
                return None;
            }
            (words, stem)
        } else {
            if lowered.is_empty() {
                return None;
            }
            (Vec::new(), false)
        };
        Some(Rule {
            id,
            domain: domain.to_owned(),
            kind,
            priority,
            pattern: lowered,
            words,
            stem,
        })
    }
}

fn starts_with_ignore_case(s: &str, prefix_lowercase: &str) -> bool {
    s.len() >= prefix_lowercase.len()
        && s.is_char_boundary(prefix_lowercase.len())
        && s[..prefix_lowercase.len()].to_lowercase() == prefix_lowercase
}

/// Words: maximal runs of letters and digits of the lowercased text, pushed onto `words`.
/// ASCII text is split byte by byte (splitting by `char` was a tenth of route_decision's own
/// time); for ASCII, `is_ascii_alphanumeric` and `char::is_alphanumeric` agree.
fn push_words<'a>(lowered: &'a str, words: &mut Vec<&'a str>) {
    if lowered.is_ascii() {
        let mut start = None;
        for (i, b) in lowered.bytes().enumerate() {
            match (b.is_ascii_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    words.push(&lowered[s..i]);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            words.push(&lowered[s..]);
        }
    } else {
        words.extend(
            lowered
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty()),
        );
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase();
    let mut words = Vec::new();
    push_words(&lowered, &mut words);
    words.into_iter().map(str::to_owned).collect()
}

/// The hash of the first-word index: FxHash (a rotate, a xor and a multiply per 8 bytes).
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

/// The compiled rule set, indexed so that a message is matched in one pass over its words:
/// keyword rules by their first word, one-word stems by their first byte, the rest scanned.
/// (Trying every rule at every word cost 2.3% of a decision's time in a profile; trying every
/// stem at every word, with the seeds' 35 stems, cost a sixth of route_decision's own time.)
#[derive(Clone, Debug, Default)]
pub struct Rules {
    rules: Vec<Rule>,
    by_first_word: HashMap<String, Vec<usize>, BuildHasherDefault<WordHasher>>,
    /// Indexed by the stem's first byte (stems are never empty); 256 entries once built.
    stems_by_first_byte: Vec<Vec<usize>>,
    ids_and_types: Vec<usize>,
}

/// The rule that decided a message's domain.
#[derive(Debug, PartialEq, Eq)]
pub struct Detection<'r> {
    pub domain: &'r str,
    pub rule_id: i64,
}

impl Rules {
    pub fn new(rules: Vec<Rule>) -> Self {
        let mut compiled = Rules {
            rules,
            stems_by_first_byte: vec![Vec::new(); 256],
            ..Default::default()
        };
        for (i, rule) in compiled.rules.iter().enumerate() {
            match rule.kind {
                MatchKind::Keyword if rule.stem && rule.words.len() == 1 => {
                    let first = rule.words[0].as_bytes()[0];
                    compiled.stems_by_first_byte[usize::from(first)].push(i)
                }
                MatchKind::Keyword => compiled
                    .by_first_word
                    .entry(rule.words[0].clone())
                    .or_default()
                    .push(i),
                _ => compiled.ids_and_types.push(i),
            }
        }
        compiled
    }

    #[cfg(any(test, feature = "pg_test"))]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn detect(&self, message: &Inbound) -> Option<Detection<'_>> {
        let key = |i: usize, pos: usize| {
            let r = &self.rules[i];
            (r.priority, r.kind, pos, r.id)
        };
        let mut best: Option<(usize, usize)> = None;
        let mut consider = |i: usize, pos: usize| {
            if best.is_none_or(|(b, bp)| key(i, pos) < key(b, bp)) {
                best = Some((i, pos));
            }
        };
        for &i in &self.ids_and_types {
            let rule = &self.rules[i];
            let hit = match rule.kind {
                MatchKind::IdPrefix => message
                    .ids
                    .iter()
                    .any(|id| starts_with_ignore_case(id, &rule.pattern)),
                _ => message
                    .kind
                    .is_some_and(|k| k.eq_ignore_ascii_case(&rule.pattern)),
            };
            if hit {
                consider(i, 0);
            }
        }
        // Texts are joined with an empty word so that a phrase never spans two fields.
        // All texts lowercased into one string, each field's end noted; a word takes at least two
        // bytes with its separator. Two allocations per message, never regrown.
        let mut lowered = String::with_capacity(message.texts.iter().map(|t| t.len()).sum());
        let mut ends = Vec::with_capacity(message.texts.len());
        for text in &message.texts {
            if text.is_ascii() {
                let start = lowered.len();
                lowered.push_str(text);
                lowered[start..].make_ascii_lowercase();
            } else {
                // str::to_lowercase, as for the rules: a final sigma depends on its word.
                lowered.push_str(&text.to_lowercase());
            }
            ends.push(lowered.len());
        }
        let mut words: Vec<&str> = Vec::with_capacity(lowered.len() / 2 + ends.len() + 1);
        let mut start = 0;
        for end in ends {
            if !words.is_empty() {
                words.push("");
            }
            push_words(&lowered[start..end], &mut words);
            start = end;
        }
        for (pos, word) in words.iter().enumerate() {
            if word.is_empty() {
                continue;
            }
            if let Some(candidates) = self.by_first_word.get(*word) {
                for &i in candidates {
                    let rule = &self.rules[i];
                    if phrase_at(&words, pos, &rule.words, rule.stem) {
                        consider(i, pos);
                    }
                }
            }
            let stems = self
                .stems_by_first_byte
                .get(usize::from(word.as_bytes()[0]))
                .map_or(&[][..], Vec::as_slice);
            for &i in stems {
                let rule = &self.rules[i];
                if word.starts_with(rule.words[0].as_str()) {
                    consider(i, pos);
                }
            }
        }
        best.map(|(i, _)| Detection {
            domain: &self.rules[i].domain,
            rule_id: self.rules[i].id,
        })
    }
}

/// Whether `phrase` stands at `start` in `words`; the last word is a stem when `stem` is set.
fn phrase_at(words: &[&str], start: usize, phrase: &[String], stem: bool) -> bool {
    let Some(window) = words.get(start..start + phrase.len()) else {
        return false;
    };
    let last = phrase.len() - 1;
    window.iter().zip(phrase).enumerate().all(|(i, (w, p))| {
        if i == last && stem {
            !w.is_empty() && w.starts_with(p.as_str())
        } else {
            *w == p
        }
    })
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

    fn rules() -> Rules {
        Rules::new(vec![
            Rule::new(1, "jobs", MatchKind::IdPrefix, "jobs_", 10).unwrap(),
            Rule::new(2, "mobility", MatchKind::MessageType, "location", 20).unwrap(),
            Rule::new(3, "jobs", MatchKind::Keyword, "job*", 90).unwrap(),
            Rule::new(4, "marketplace", MatchKind::Keyword, "for sale", 100).unwrap(),
            Rule::new(5, "insurance", MatchKind::Keyword, "insurance", 80).unwrap(),
            Rule::new(6, "marketplace", MatchKind::Keyword, "sell*", 100).unwrap(),
        ])
    }

    fn text(t: &str) -> Inbound<'_> {
        Inbound {
            kind: Some("text"),
            texts: vec![t],
            ..Default::default()
        }
    }

    #[pg_test]
    fn keywords_match_whole_words_stems_and_phrases() {
        let r = rules();
        let cases = [
            ("Any JOBS today?", Some("jobs")),
            ("jobseeker here", Some("jobs")),
            ("Bicycle for sale", Some("marketplace")),
            ("for, sale!", Some("marketplace")),
            ("sale for", None),
            ("objob", None),
            ("Selling my phone", Some("marketplace")),
            ("job selling phones", Some("jobs")),
            ("insurance for my job", Some("insurance")),
            ("", None),
        ];
        for (t, expected) in cases {
            assert_eq!(r.detect(&text(t)).map(|d| d.domain), expected, "text {t:?}");
        }
    }

    #[pg_test]
    fn ids_and_types_beat_keywords() {
        let r = rules();
        let msg = Inbound {
            kind: Some("interactive"),
            ids: vec!["JOBS_post"],
            texts: vec!["Sell an item"],
            ..Default::default()
        };
        assert_eq!(r.detect(&msg).unwrap().domain, "jobs");
        let loc = Inbound {
            kind: Some("location"),
            ..Default::default()
        };
        assert_eq!(
            r.detect(&loc).unwrap(),
            Detection {
                domain: "mobility",
                rule_id: 2
            }
        );
    }

    #[pg_test]
    fn phrases_do_not_span_fields() {
        let r = rules();
        let msg = Inbound {
            texts: vec!["something for", "sale"],
            ..Default::default()
        };
        assert_eq!(r.detect(&msg), None);
    }

    /// The byte splitter for ASCII text finds the same words as the `char` one, on every ASCII
    /// character in 3,000 generated texts.
    #[pg_test]
    fn ascii_word_split_equals_the_char_split() {
        let mut state: u32 = 12_345;
        for n in 0..3_000 {
            let text: String = (0..n % 40)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    char::from(((state >> 16) % 128) as u8)
                })
                .collect();
            let mut words = Vec::new();
            push_words(&text, &mut words);
            let by_char: Vec<&str> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            assert_eq!(words, by_char, "{text:?}");
        }
    }

    #[pg_test]
    fn unusable_patterns_are_refused() {
        assert!(Rule::new(9, "x", MatchKind::Keyword, "***", 1).is_none());
        assert!(Rule::new(9, "x", MatchKind::IdPrefix, "  ", 1).is_none());
        // A prefix that would cut a multi-byte character simply does not match.
        assert!(!starts_with_ignore_case("Ärger_x", "a"));
        assert!(starts_with_ignore_case("Ärger_x", "är"));
    }

    /// The seeded rules map plain English requests as a user would expect.
    #[pg_test]
    fn seeded_rules_understand_plain_requests() {
        let rules = crate::cache::snapshot().rules.clone();
        let cases = [
            (
                "Hello, are there any job openings for accountants?",
                Some("jobs"),
            ),
            ("Post a vacancy for a sales manager", Some("jobs")),
            ("Looking for work as a cleaner", Some("jobs")),
            ("Please find my CV attached", Some("jobs")),
            (
                "I want to rent a 2 bedroom house in Kimihurura",
                Some("property"),
            ),
            ("Is this apartment still available?", Some("property")),
            ("Land for sale in Musanze", Some("property")),
            ("Selling this phone, price 150000 RWF", Some("marketplace")),
            ("Where can I buy a second-hand fridge?", Some("marketplace")),
            ("I need a ride to the airport", Some("mobility")),
            ("Book me a taxi please", Some("mobility")),
            ("Update my profile picture", Some("profile")),
            ("I want to change my name", Some("profile")),
            ("How do I renew my car insurance?", Some("insurance")),
            ("I want to file a claim", Some("insurance")),
            // A protected domain wins a tie: the message stays on its legacy handler.
            ("I need insurance for my new job", Some("insurance")),
            ("Can I talk to the AI assistant?", Some("ai_agents")),
            ("Good morning", None),
            ("", None),
        ];
        for (text, expected) in cases {
            let message = Inbound {
                kind: Some("text"),
                texts: vec![text],
                ..Default::default()
            };
            assert_eq!(
                rules.detect(&message).map(|d| d.domain),
                expected,
                "{text:?}"
            );
        }
        let by_id = [
            ("jobs_post_vacancy", "jobs"),
            ("marketplace_sell", "marketplace"),
            ("property_list", "property"),
            ("mobility_book", "mobility"),
            ("profile_edit", "profile"),
            ("insurance_renew", "insurance"),
            ("ai_agents_chat", "ai_agents"),
        ];
        for (id, domain) in by_id {
            let message = Inbound {
                kind: Some("interactive"),
                ids: vec![id],
                // The label says something else: the id wins.
                texts: vec!["Sell an item"],
                ..Default::default()
            };
            assert_eq!(
                rules.detect(&message).map(|d| d.domain),
                Some(domain),
                "{id}"
            );
        }
        let location = Inbound {
            kind: Some("location"),
            ..Default::default()
        };
        assert_eq!(rules.detect(&location).map(|d| d.domain), Some("mobility"));
    }

    /// Rules are rows: an operator's edit applies to the next decision.
    #[pg_test]
    fn operators_edit_rules_as_rows() {
        let message = Inbound {
            kind: Some("text"),
            texts: vec!["Ndashaka akazi"],
            ..Default::default()
        };
        assert_eq!(crate::cache::snapshot().rules.detect(&message), None);
        Spi::run(
            "INSERT INTO webhook_routing_rules (domain, match_kind, pattern, priority) \
             VALUES ('jobs', 'keyword', 'akazi', 60)",
        )
        .unwrap();
        assert_eq!(
            crate::cache::snapshot()
                .rules
                .detect(&message)
                .map(|d| d.domain),
            Some("jobs")
        );
        Spi::run("UPDATE webhook_routing_rules SET enabled = false WHERE pattern = 'akazi'")
            .unwrap();
        assert_eq!(crate::cache::snapshot().rules.detect(&message), None);
    }

    #[pg_test(error = "keyword pattern \"***\" has no letters or digits")]
    fn a_keyword_without_letters_is_refused() {
        Spi::run(
            "INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', '***')",
        )
        .unwrap();
    }
}
