//! An identity provider for the tests: RSA (fixtures) and P-256 keys, their JWKs, tokens signed
//! with them, and a tiny HTTP server on loopback serving a JWKS (and a discovery document) that
//! a test can rotate, break or take down, all through carepath's real HTTP client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A signing key of the test provider.
#[derive(Clone)]
pub enum Key {
    Rsa { pem: String, kid: String },
    P256 { pkcs8: Vec<u8>, point: Vec<u8>, kid: String },
}

impl Key {
    /// A fixture RSA key: `rsa2048-a`, `rsa2048-b` or `rsa1024`.
    pub fn rsa(name: &str, kid: &str) -> Self {
        let path = format!("{}/tests/api/fixtures/{name}.pem", env!("CARGO_MANIFEST_DIR"));
        Key::Rsa { pem: std::fs::read_to_string(path).unwrap(), kid: kid.into() }
    }

    pub fn p256(kid: &str) -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        Key::P256 { pkcs8: pkcs8.as_ref().to_vec(), point: pair.public_key().as_ref().to_vec(), kid: kid.into() }
    }

    pub fn kid(&self) -> &str {
        match self {
            Key::Rsa { kid, .. } | Key::P256 { kid, .. } => kid,
        }
    }

    /// The public JWK (RSA without `alg`, as Entra ID publishes it).
    pub fn jwk(&self) -> Value {
        match self {
            Key::Rsa { pem, kid } => {
                let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem).unwrap();
                json!({"kty": "RSA", "use": "sig", "kid": kid,
                    "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()), "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be())})
            }
            Key::P256 { point, kid, .. } => json!({"kty": "EC", "crv": "P-256", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])}),
        }
    }

    /// Signs `claims` with `alg` (RS256/PS256 for RSA keys, ES256 for P-256), naming the kid.
    pub fn sign_as(&self, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        let key = match self {
            Key::Rsa { pem, .. } => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            Key::P256 { pkcs8, .. } => EncodingKey::from_ec_der(pkcs8),
        };
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    pub fn sign(&self, claims: &Value) -> String {
        let alg = match self {
            Key::Rsa { .. } => Algorithm::RS256,
            Key::P256 { .. } => Algorithm::ES256,
        };
        self.sign_as(alg, Some(self.kid()), claims)
    }
}

pub fn jwks(keys: &[&Key]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()})
}

/// What the server answers at every path but discovery: status, body, `Cache-Control`.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub cache_control: Option<String>,
}

/// A JWKS endpoint on 127.0.0.1 whose answer the test sets; counts the JWKS requests.
pub struct JwksServer {
    pub url: String,
    pub answer: Arc<Mutex<Answer>>,
    pub hits: Arc<AtomicUsize>,
}

impl JwksServer {
    pub fn start(keys: &[&Key], max_age: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new(Answer {
            status: 200,
            body: jwks(keys).to_string(),
            cache_control: Some(format!("public, max-age={max_age}")),
        }));
        let hits = Arc::new(AtomicUsize::new(0));
        let (a, h, base) = (answer.clone(), hits.clone(), url.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let mut length = 0usize;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let current = if path == "/.well-known/openid-configuration" {
                    Answer {
                        status: 200,
                        body: json!({"issuer": base, "jwks_uri": format!("{base}/jwks"),
                            "authorization_endpoint": format!("{base}/auth"), "token_endpoint": format!("{base}/token")})
                        .to_string(),
                        cache_control: None,
                    }
                } else {
                    h.fetch_add(1, Ordering::SeqCst);
                    a.lock().unwrap().clone()
                };
                let cache = current.cache_control.map(|c| format!("Cache-Control: {c}\r\n")).unwrap_or_default();
                let response = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: application/json\r\n{cache}Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                    current.status,
                    current.body.len(),
                    current.body
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Self { url, answer, hits }
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.url)
    }

    pub fn serve(&self, status: u16, body: &str) {
        let mut answer = self.answer.lock().unwrap();
        answer.status = status;
        answer.body = body.to_owned();
    }

    pub fn serve_keys(&self, keys: &[&Key]) {
        self.serve(200, &jwks(keys).to_string());
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A trust file in a temp dir holding `entries`; returns (dir, path).
pub fn trust_file(entries: Value) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trust.json");
    std::fs::write(&path, json!({"issuers": entries}).to_string()).unwrap();
    (dir, path)
}
