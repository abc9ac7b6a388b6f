//! The test suite: one binary (one link of the crate) holding every module of tests, each
//! through the real HTTP stack on a fresh database (SQLite, or PostgreSQL when
//! `CAREPATH_TEST_DATABASE_URL` names a server; see `common`).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod common;

mod access;
mod accounts;
mod audit;
mod auth;
mod backup;
mod care_plan_exchange;
mod care_plan_totals;
mod cli;
mod consent;
mod consent_log;
mod console;
mod console_audit;
mod console_hours;
mod console_morning;
mod console_reports;
mod console_residents;
mod console_sheets;
mod console_words;
mod contact_hours;
mod contention;
mod coordination;
mod demo;
mod denials;
mod directory;
mod documents;
mod fhir;
mod fhir_clins;
mod fhir_clins_door;
mod fhir_export;
mod fhir_search;
mod fhir_server;
mod foundation;
mod hardening;
mod idp_tokens;
mod instances;
mod keys;
mod limits;
mod metrics;
mod operator;
mod patients;
mod reports;
mod reports_bench;
mod reports_fiscal;
mod service_clients;
mod signing_keys;
mod strict_input;
mod sync;
mod vacancies;
mod vacancies_bench;
mod webhooks;
