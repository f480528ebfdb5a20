//! The rollout settings in force (a row of `webhook_routing_config`) and what they answer:
//! which domains are routable, each domain's percentage and switch, testers and denied keys.
//! Read from the database by src/pg/config_load.rs.
use std::collections::BTreeMap;

/// Percentages are kept in basis points (hundredths of a percent): 10.25% is 1025.
pub type Bp = i32;

pub const DEFAULT_DOMAINS: [&str; 3] = ["jobs", "marketplace", "property"];
pub const DEFAULT_PROTECTED: [&str; 3] = ["mobility", "profile", "insurance"];

/// One row of the config history: the full settings in force from its creation on.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// None only when the history is empty and these are the install defaults.
    pub id: Option<i64>,
    pub percentage: Bp,
    pub enabled: bool,
    pub domains: Vec<String>,
    pub protected: Vec<String>,
    pub domain_percentages: BTreeMap<String, Bp>,
    pub domain_enabled: BTreeMap<String, bool>,
    /// Per domain, routing keys that go to unified before the percentage applies.
    pub testers: BTreeMap<String, Vec<String>>,
    /// Per domain, routing keys that never go to unified (they win over testers).
    pub denied: BTreeMap<String, Vec<String>>,
}

impl Default for Config {
    /// What CREATE EXTENSION installs: 0%, disabled.
    fn default() -> Self {
        Config {
            id: None,
            percentage: 0,
            enabled: false,
            domains: DEFAULT_DOMAINS.iter().map(|d| d.to_string()).collect(),
            protected: DEFAULT_PROTECTED.iter().map(|d| d.to_string()).collect(),
            domain_percentages: BTreeMap::new(),
            domain_enabled: BTreeMap::new(),
            testers: BTreeMap::new(),
            denied: BTreeMap::new(),
        }
    }
}

impl Config {
    pub fn is_protected(&self, domain: &str) -> bool {
        self.protected.iter().any(|d| d == domain)
    }

    pub fn is_routable(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d == domain) && !self.is_protected(domain)
    }

    /// The domain's own percentage, else the global one.
    pub fn percentage_for(&self, domain: &str) -> Bp {
        self.domain_percentages
            .get(domain)
            .copied()
            .unwrap_or(self.percentage)
    }

    /// Whether the routing key is one of the domain's testers.
    pub fn is_tester(&self, domain: &str, key: &str) -> bool {
        listed(&self.testers, domain, key)
    }

    /// Whether the routing key is denied unified in the domain.
    pub fn is_denied(&self, domain: &str, key: &str) -> bool {
        listed(&self.denied, domain, key)
    }

    /// The domain's own switch (on unless turned off); the global switch is checked separately.
    pub fn domain_enabled(&self, domain: &str) -> bool {
        self.domain_enabled.get(domain).copied().unwrap_or(true)
    }
}

/// Whether `key` is in the domain's list.
fn listed(lists: &BTreeMap<String, Vec<String>>, domain: &str, key: &str) -> bool {
    lists
        .get(domain)
        .is_some_and(|keys| keys.iter().any(|k| k == key))
}
