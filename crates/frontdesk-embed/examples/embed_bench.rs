//! Release-build figures for dense retrieval:
//!   cargo run -p frontdesk-embed --release --example embed_bench [-- N_CHUNKS [MODELS_DIR]]
//! Prints MiniLM throughput on ~900-character chunks (batches of 32), single-query
//! latency, and exact vector search latency at 100,000 × 384.
use std::path::PathBuf;
use std::time::Instant;

use frontdesk_embed::{bench_vectors, Embedder, MiniLm, MINILM_DIR_NAME};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n_chunks: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(256);
    let models = args
        .get(2)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("FRONTDESK_MODELS_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("models"));

    for n in [10_000, 100_000] {
        let (p50, p99) = bench_vectors(n, 200);
        println!("vector search {n} x 384, top-10: p50 {p50:.2} ms, p99 {p99:.2} ms");
    }

    let t = Instant::now();
    let m = match MiniLm::load(&models.join(MINILM_DIR_NAME)) {
        Ok(m) => m,
        Err(e) => {
            println!("MiniLM not loaded ({e}); run scripts/fetch-models.sh");
            return;
        }
    };
    println!("MiniLM loaded in {:.2} s", t.elapsed().as_secs_f64());

    // ~900-character support-article chunks: natural sentences in varying order.
    let sentences = [
        "To reset your password, open the sign-in page and choose \"Forgot password?\".",
        "We will email you a link that stays valid for 30 minutes.",
        "If the message does not arrive, check your spam folder or ask your administrator to whitelist noreply@example.com.",
        "Refunds are issued to the original payment method within 5-7 business days after we receive the returned item.",
        "Orders placed before 2 p.m. (CET) ship the same day; later orders ship on the next working day.",
        "You can change the billing address under Settings → Billing → Address, as long as the invoice has not been issued yet.",
        "Two-factor authentication adds a one-time code from an authenticator app to every sign-in.",
        "Our support team is available Monday to Friday, 8:00-18:00, and answers chat messages within a few minutes.",
        "Damaged parcels must be reported within 48 hours, with photos of the box and the contents.",
        "Subscriptions renew automatically; cancel at least 24 hours before the renewal date to avoid being charged.",
        "Invoices are generated as PDF files and can be downloaded from the Orders page at any time.",
        "For security reasons we never ask for your password by phone or e-mail.",
        "Gift cards cannot be exchanged for cash and expire 24 months after purchase.",
        "The mobile app supports iOS 16 and Android 12 or later; older versions may still work but are not tested.",
    ];
    let mut seed = 42u64;
    let chunks: Vec<String> = (0..n_chunks)
        .map(|_| {
            let mut s = String::new();
            while s.len() < 880 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                s.push_str(sentences[(seed >> 33) as usize % sentences.len()]);
                s.push(' ');
            }
            let mut cut = s.len().min(920);
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s
        })
        .collect();
    let chars: usize = chunks.iter().map(String::len).sum::<usize>() / chunks.len();
    let tokens: usize = chunks.iter().take(32).map(|c| m.count_tokens(c).unwrap()).sum::<usize>() / 32;
    let _ = m.embed(&chunks[..32.min(chunks.len())]).unwrap(); // warm-up
    let t = Instant::now();
    for batch in chunks.chunks(32) {
        let v = m.embed(batch).unwrap();
        assert_eq!(v.len(), batch.len());
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "MiniLM: {n_chunks} chunks of ~{chars} chars (~{tokens} tokens) in batches of 32: {:.1} chunks/s ({:.1} ms/chunk)",
        n_chunks as f64 / secs,
        secs * 1000.0 / n_chunks as f64
    );

    let questions = [
        "How do I reset my password?",
        "Where is my order?",
        "Can I get a refund for a damaged item?",
        "How do I change my billing address?",
    ];
    let mut times = Vec::new();
    for i in 0..40 {
        let q = vec![questions[i % questions.len()].to_string()];
        let t = Instant::now();
        let _ = m.embed(&q).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "MiniLM: one short question: p50 {:.1} ms, p99 {:.1} ms",
        times[times.len() / 2],
        times[(times.len() - 1) * 99 / 100]
    );
}
