//! The statistics the monitoring page and alerts rest on: percentiles,
//! confidence histograms and the population stability index.

/// Confidence histograms have this many equal bins over [0, 1].
pub const BINS: usize = 10;
/// Fewer values than this on either side give no drift figure.
pub const MIN_DRIFT_SAMPLE: u64 = 20;
/// A share of an empty bin is taken as this, so the index stays finite.
const FLOOR: f64 = 1e-4;

/// The `p`-th percentile (0–100) of `sorted` by nearest rank; None when empty.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The bin of a confidence (values outside [0, 1] or not numbers are left out).
pub fn bin(c: f64) -> Option<usize> {
    (c.is_finite() && (0.0..=1.0).contains(&c)).then(|| ((c * BINS as f64) as usize).min(BINS - 1))
}

/// A histogram of `values` over [`BINS`] bins.
pub fn histogram(values: impl IntoIterator<Item = f64>) -> [u64; BINS] {
    let mut h = [0u64; BINS];
    for v in values {
        if let Some(b) = bin(v) {
            h[b] += 1;
        }
    }
    h
}

/// The population stability index of `actual` against `expected`:
/// Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over the bins' shares. Under 0.1 is usually
/// read as stable, 0.1–0.25 as a moderate shift, over 0.25 as a significant
/// one. None when either side has fewer than [`MIN_DRIFT_SAMPLE`] values.
pub fn psi(expected: &[u64; BINS], actual: &[u64; BINS]) -> Option<f64> {
    let (ne, na) = (expected.iter().sum::<u64>(), actual.iter().sum::<u64>());
    if ne < MIN_DRIFT_SAMPLE || na < MIN_DRIFT_SAMPLE {
        return None;
    }
    let share = |n: u64, of: u64| (n as f64 / of as f64).max(FLOOR);
    Some(
        expected
            .iter()
            .zip(actual)
            .map(|(e, a)| {
                let (e, a) = (share(*e, ne), share(*a, na));
                (a - e) * (a / e).ln()
            })
            .sum(),
    )
}

/// How a person reads a PSI value.
pub fn drift_reading(psi: f64) -> &'static str {
    if psi < 0.1 {
        "stable"
    } else if psi < 0.25 {
        "moderate shift"
    } else {
        "significant shift"
    }
}

/// `part / whole` in percent; None with nothing to divide by.
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[7], 95.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn confidences_fall_in_their_bins_and_nonsense_is_left_out() {
        let h = histogram([0.0, 0.05, 0.1, 0.55, 0.99, 1.0, -0.1, 1.5, f64::NAN]);
        assert_eq!(h, [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]);
    }

    #[test]
    fn the_same_distribution_has_no_drift() {
        let a = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(psi(&a, &a), Some(0.0));
        // the same shape at another size
        let b = a.map(|n| n * 3);
        assert!(psi(&a, &b).unwrap().abs() < 1e-12);
    }

    #[test]
    fn psi_on_known_distributions() {
        // half the mass moves from the top bin to the bottom one:
        // expected shares 0.5 / 0.5, actual 0.75 / 0.25 over two bins
        let mut e = [0u64; BINS];
        let mut a = [0u64; BINS];
        e[0] = 500;
        e[9] = 500;
        a[0] = 750;
        a[9] = 250;
        let want = (0.75 - 0.5) * (0.75f64 / 0.5).ln() + (0.25 - 0.5) * (0.25f64 / 0.5).ln();
        assert!((psi(&e, &a).unwrap() - want).abs() < 1e-12);
        assert!((want - 0.2747).abs() < 1e-4);
        assert_eq!(drift_reading(want), "significant shift");
        // a uniform model whose confidence collapses to the lowest bins
        let uniform = [100u64; BINS];
        let mut low = [0u64; BINS];
        low[0] = 600;
        low[1] = 400;
        let p = psi(&uniform, &low).unwrap();
        assert!(p > 2.0, "{p}");
        // empty bins on one side stay finite
        assert!(p.is_finite());
        assert_eq!(drift_reading(0.05), "stable");
        assert_eq!(drift_reading(0.2), "moderate shift");
    }

    #[test]
    fn too_few_values_give_no_drift_figure() {
        let mut small = [0u64; BINS];
        small[5] = MIN_DRIFT_SAMPLE - 1;
        assert_eq!(psi(&[100; BINS], &small), None);
        assert_eq!(psi(&small, &[100; BINS]), None);
    }

    #[test]
    fn rates_in_percent() {
        assert_eq!(rate(1, 4), Some(25.0));
        assert_eq!(rate(3, 0), None);
    }
}
