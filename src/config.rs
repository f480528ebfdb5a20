//! The rollout settings in force (the newest row of `webhook_routing_config`) and the detection
//! rules, read through SPI.
use crate::detect::{MatchKind, Rule, Rules};
use crate::error::spi_failed;
use crate::jsonb::JsonbArg;
use pgrx::prelude::*;
use pgrx::FromDatum;
use std::collections::BTreeMap;

/// Read one column of an SPI row; a failure is reported as an internal error.
macro_rules! column {
    ($row:expr, $ordinal:expr, $ty:ty, $table:literal) => {
        $row.get::<$ty>($ordinal)
            .unwrap_or_else(|e| spi_failed(concat!("read ", $table), e))
    };
}

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

    /// The domain's own switch (on unless turned off); the global switch is checked separately.
    pub fn domain_enabled(&self, domain: &str) -> bool {
        self.domain_enabled.get(domain).copied().unwrap_or(true)
    }

    /// The newest row of the history in the extension's (quoted) schema, or None when the
    /// history is empty.
    pub fn load_from(schema: &str) -> Option<Config> {
        let query = format!(
            "SELECT id, (percentage OPERATOR(pg_catalog.*) 100)::int4, enabled, domains, protected_domains, \
                    domain_percentages, domain_enabled \
             FROM {schema}.webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        Spi::connect(|client| {
            let table = client
                .select(&query, Some(1), &[])
                .unwrap_or_else(|e| spi_failed("read webhook_routing_config", e));
            if table.is_empty() {
                return None;
            }
            let row = table.first();
            let id = column!(row, 1, i64, "webhook_routing_config");
            let percentage = column!(row, 2, i32, "webhook_routing_config").unwrap_or(0);
            let enabled = column!(row, 3, bool, "webhook_routing_config").unwrap_or(false);
            let domains = column!(row, 4, Vec<Option<String>>, "webhook_routing_config");
            let protected = column!(row, 5, Vec<Option<String>>, "webhook_routing_config");
            let jsonb = |ordinal| {
                row.get_datum_by_ordinal(ordinal)
                    .unwrap_or_else(|e| spi_failed("read webhook_routing_config", e))
                    // SAFETY: the column is jsonb and the tuple lives until SPI finishes.
                    .and_then(|d| unsafe { JsonbArg::from_datum(d, false) })
            };
            let domain_percentages = jsonb(6)
                .and_then(|j| j.read::<BTreeMap<&str, f64>>().ok())
                .unwrap_or_default()
                .into_iter()
                .map(|(d, p)| (d.to_owned(), (p * 100.0).round() as Bp))
                .collect();
            let domain_enabled = jsonb(7)
                .and_then(|j| j.read::<BTreeMap<&str, bool>>().ok())
                .unwrap_or_default()
                .into_iter()
                .map(|(d, e)| (d.to_owned(), e))
                .collect();
            let flatten = |v: Option<Vec<Option<String>>>| {
                v.unwrap_or_default().into_iter().flatten().collect()
            };
            Some(Config {
                id,
                percentage,
                enabled,
                domains: flatten(domains),
                protected: flatten(protected),
                domain_percentages,
                domain_enabled,
            })
        })
    }
}

/// The enabled detection rules, given the extension's quoted schema.
pub fn load_rules(schema: &str) -> Rules {
    let query = format!(
        "SELECT id, domain, match_kind, pattern, priority FROM {schema}.webhook_routing_rules WHERE enabled"
    );
    Spi::connect(|client| {
        let table = client
            .select(&query, None, &[])
            .unwrap_or_else(|e| spi_failed("read webhook_routing_rules", e));
        let mut rules = Vec::with_capacity(table.len());
        for row in table {
            let id = column!(row, 1, i64, "webhook_routing_rules").unwrap_or(0);
            let domain = column!(row, 2, String, "webhook_routing_rules").unwrap_or_default();
            let kind = column!(row, 3, String, "webhook_routing_rules").unwrap_or_default();
            let pattern = column!(row, 4, String, "webhook_routing_rules").unwrap_or_default();
            let priority = column!(row, 5, i32, "webhook_routing_rules").unwrap_or(i32::MAX);
            if let Some(rule) = MatchKind::parse(&kind)
                .and_then(|kind| Rule::new(id, &domain, kind, &pattern, priority))
            {
                rules.push(rule);
            }
        }
        Rules::new(rules)
    })
}
