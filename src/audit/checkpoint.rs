//! A signed checkpoint of the audit chain: the message its Ed25519 signature covers, and the
//! check of one. The signer, the key set and the verifier all speak this one format.

use base64::Engine;

use crate::db::audit::CheckpointRow;

/// The message a checkpoint signs: the chain's head at `seq` and when it was signed.
pub fn checkpoint_message(seq: i64, hash: &str, signed_at: &str) -> String {
    format!("carepath:audit-checkpoint:v1\n{seq}\n{hash}\n{signed_at}")
}

/// Whether `c`'s signature is `public_key`'s over its message.
pub fn verify_checkpoint(c: &CheckpointRow, public_key: &[u8]) -> bool {
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(&c.signature) else { return false };
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public_key)
        .verify(checkpoint_message(c.seq, &c.hash, &c.signed_at).as_bytes(), &signature)
        .is_ok()
}
