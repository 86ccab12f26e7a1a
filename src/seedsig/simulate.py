"""The built-in example cohort: a deterministic synthetic breast-cancer RNA-seq cohort with planted structure.

``simulate_cohort(out_dir)`` writes ``counts.tsv.gz`` (raw counts, real HGNC symbols, some under
outdated symbols such as IL8 and CTGF), ``clinical.tsv`` (metastasis-free survival, site of first
relapse, ER status, age) and ``truth.json`` (everything planted, so tests can check that the pipeline
recovers it and finds nothing where nothing was planted).

Model
-----
* A latent self-seeding program ``s ~ N(0, 1)`` per sample drives the four SS genes (log fold
  ``SS_LOADING`` per SD of s) and a fraction ``DRIVEN_FRACTION`` of the genes of the lung, bone and brain
  signatures (LMS, BoMS, BrMS, SMID_RELAPSE_LUNG/BONE/BRAIN; up genes positively, down genes
  negatively, ``ORGAN_LOADING``). Genes of the undriven signatures (liver, pleura, Landemaine, Tavazoie) are never
  driven; Tavazoie contains the SS gene MMP1, so it correlates with SS through that shared gene only
  (``shared_gene_signatures`` in the truth); the other three are ``independent_signatures``.
* An independent proliferation program drives proliferation genes that are in no signature; ER status
  (independent of s) drives a luminal module.
* Counts are negative binomial (gamma-Poisson): mean = library size x gene proportion x exp(effects),
  dispersion ``0.05 + 1 / sqrt(mean)``; library sizes log-normal (median 20 M, 5-95% spread about 3.7x).
* Metastasis-free survival: hazard ``h0 exp(log(2) s)`` (HR 2 per SD of the latent program), exponential
  baseline, administrative censoring at 120 months plus uniform loss to follow-up; site of first
  relapse more often lung/bone/brain at high s, liver independent of s.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from seedsig.core.errors import SeedsigError
from seedsig.core.settings import EXAMPLE_DEFAULTS
from seedsig.core.tables import atomic_path
from seedsig.ingest.ids import hgnc_table, lookups
from seedsig.scoring.signatures import load_signatures

DEFAULT_SEED = EXAMPLE_DEFAULTS["seed"]  # the config's example.seed
SHIPPED_SIGNATURE_FILES = ("self_seeding.tsv", "organ_metastasis.tsv", "msigdb_metastasis.tsv")
CORRELATED = (
    "SS",
    "SS_attraction",
    "SS_infiltration",
    "LMS",
    "BoMS",
    "BrMS",
    "SMID_RELAPSE_LUNG",
    "SMID_RELAPSE_BONE",
    "SMID_RELAPSE_BRAIN",
)
# Not driven by the program. TAVAZOIE contains the SS gene MMP1: it is expected to correlate with SS through
# that shared gene only (reported separately in the truth as a shared-gene signature, not as independent).
UNDRIVEN = ("SMID_RELAPSE_LIVER", "SMID_RELAPSE_PLEURA", "LANDEMAINE_LUNG_METASTASIS", "TAVAZOIE_METASTASIS")
ORGAN_DRIVEN = ("LMS", "BoMS", "BrMS", "SMID_RELAPSE_LUNG", "SMID_RELAPSE_BONE", "SMID_RELAPSE_BRAIN")
SS_GENES = ("IL6", "CXCL8", "FSCN1", "MMP1")
RENAMED = {"CXCL8": "IL8", "CCN2": "CTGF"}  # planted outdated symbols (plus N_EXTRA_RENAMED drawn at random)
N_EXTRA_RENAMED = 6
SS_LOADING = 0.9
ORGAN_LOADING = 0.6
DRIVEN_FRACTION = 0.4
HR_PER_SD = 2.0
PROLIFERATION = (
    "MKI67",
    "TOP2A",
    "CCNB1",
    "BUB1",
    "AURKA",
    "PCNA",
    "MCM2",
    "CDK1",
    "CCNA2",
    "BIRC5",
    "CENPF",
    "KIF2C",
    "TPX2",
    "NUSAP1",
    "PRC1",
    "RRM2",
    "TYMS",
    "CDC20",
    "UBE2C",
    "PTTG1",
    "MYBL2",
    "CCNE1",
    "E2F1",
    "FOXM1",
)
LUMINAL = ("ESR1", "PGR", "GATA3", "FOXA1", "XBP1", "TFF1", "TFF3", "AGR2", "CA12", "SLC39A6", "NAT1", "MLPH")
SITES = ("lung", "bone", "brain", "liver")


def default_signature_dir() -> Path:
    """The shipped signature files: config/signatures of the repository this package was installed
    from (editable install), else of the current directory (a repository checkout)."""

    for cand in (Path(__file__).resolve().parents[2] / "config" / "signatures", Path.cwd() / "config" / "signatures"):
        if all((cand / f).is_file() for f in SHIPPED_SIGNATURE_FILES):
            return cand
    raise SeedsigError(
        f"the shipped signature files ({', '.join(SHIPPED_SIGNATURE_FILES)}) were not found in config/signatures: "
        "run from the seedsig repository or pass --signature-dir."
    )


def _pick_renames(rng: np.random.Generator, fillers: Sequence[str]) -> dict[str, str]:
    """Previous symbols that resolve unambiguously (a previous symbol of exactly one gene, approved for none)."""

    lk = lookups()
    tab = hgnc_table().set_index("symbol")
    options = []
    for g in fillers:
        for prev in filter(None, tab.at[g, "prev_symbol"].split("|")):
            if (
                prev not in lk["approved"]
                and lk["previous"].get(prev) == (g,)
                and prev.upper() not in lk["approved_upper"]
            ):
                options.append((g, prev))
                break
    pick = rng.choice(len(options), size=min(N_EXTRA_RENAMED, len(options)), replace=False)
    return {options[i][0]: options[i][1] for i in sorted(pick)}


@dataclass
class _Universe:
    """The simulated genes: the resolvable genes of the shipped signatures, proliferation and luminal genes (``core``),
    then fillers drawn at random (protein-coding genes first; beyond them, every other approved HGNC symbol);
    ``index``: gene -> row."""

    genes: np.ndarray
    index: dict[str, int]
    core: list[str]
    fillers: list[str]
    prolif: list[str]
    luminal: list[str]


MIN_FILLERS = 100  # genes beyond the core that every simulated cohort has
MIN_SAMPLES = 3


def _core_genes(tab: pd.DataFrame, sig_genes: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(core genes, proliferation genes, luminal genes) of the universe."""
    approved = set(tab["symbol"])
    in_sig = set(sig_genes)
    prolif = [g for g in PROLIFERATION if g in approved and g not in in_sig]
    luminal = [g for g in LUMINAL if g in approved and g not in in_sig]
    return sorted(in_sig | set(prolif) | set(luminal)), prolif, luminal


def check_size(n_genes: object, n_samples: object, n_core: int, n_approved: int) -> None:
    """Refuse a cohort size the simulator cannot make, naming the option (and its config key) and the allowed range."""
    lo_g = n_core + MIN_FILLERS
    if isinstance(n_genes, bool) or not isinstance(n_genes, (int, np.integer)) or not lo_g <= n_genes <= n_approved:
        raise SeedsigError(
            f"simulate: n_genes (--n-genes, config example.n_genes) is {n_genes!r}; it must be a whole number from "
            f"{lo_g} (the {n_core} genes of the shipped signatures and the proliferation and luminal modules, plus "
            f"{MIN_FILLERS}) to {n_approved} (every approved symbol of the HGNC table)."
        )
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < MIN_SAMPLES:
        raise SeedsigError(
            f"simulate: n_samples (--n-samples, config example.n_samples) is {n_samples!r}; it must be a whole number "
            f">= {MIN_SAMPLES}."
        )


def _gene_universe(rng: np.random.Generator, sig_genes: list[str], n_genes: int) -> _Universe:
    tab = hgnc_table()
    core, prolif, luminal = _core_genes(tab, sig_genes)
    n_fill = n_genes - len(core)
    coding = sorted(set(tab.loc[tab["locus_group"] == "protein-coding gene", "symbol"]) - set(core))
    if n_fill <= len(coding):
        fillers = sorted(rng.choice(coding, size=n_fill, replace=False).tolist())
    else:  # every protein-coding gene, then non-coding RNAs, pseudogenes and other loci
        rest = sorted(set(tab["symbol"]) - set(core) - set(coding))
        fillers = sorted(coding + rng.choice(rest, size=n_fill - len(coding), replace=False).tolist())
    genes = np.array(core + fillers, dtype=object)
    return _Universe(genes, {g: i for i, g in enumerate(genes)}, core, fillers, prolif, luminal)


def _organ_directions(sigs: dict, index: dict[str, int], independent_genes: set[str]) -> tuple[dict[str, int], set]:
    """The direction of each gene of the organ signatures the program may drive, and the genes it may drive (those
    without conflicting directions; never an SS gene or a gene of an undriven signature)."""
    direction: dict[str, int] = {}
    conflict: set[str] = set()
    for name in ORGAN_DRIVEN:
        sig = sigs[name]
        for g, d in zip(sig.genes, sig.directions):
            if g in index and g not in SS_GENES and g not in independent_genes:
                if direction.get(g, d) != d:
                    conflict.add(g)
                direction[g] = d
    return direction, set(direction) - conflict


def _driven_genes(rng: np.random.Generator, sigs: dict, candidates: set[str]) -> list[str]:
    """Drive DRIVEN_FRACTION of each organ signature's candidate genes (at least one gene of each), smallest
    signatures first so the partial 2- and 3-gene lists are driven too. Signed signatures get as many driven down
    genes as up genes: a net shift of many genes one way would move the ranks of every other gene and couple
    rank-based scores of unrelated signatures."""
    driven_set: set[str] = set()
    for name in sorted(ORGAN_DRIVEN, key=lambda n: (sigs[n].size, n)):
        sig = sigs[name]
        up = sorted(g for g in sig.up if g in candidates)
        down = sorted(g for g in sig.down if g in candidates)
        n_up = max(1, int(np.ceil(DRIVEN_FRACTION * len(up)))) if up else 0
        for pool_genes, need in (
            (up, n_up),
            (down, min(len(down), n_up) if up else max(1, int(np.ceil(DRIVEN_FRACTION * len(down))))),
        ):
            need -= len(driven_set.intersection(pool_genes))
            pool = [g for g in pool_genes if g not in driven_set]
            if need > 0 and pool:
                driven_set.update(rng.choice(pool, size=min(need, len(pool)), replace=False).tolist())
    return sorted(driven_set)


CHUNK_ELEMENTS = 4_000_000  # genes x samples per chunk of the count simulation and of counts.tsv.gz (32 MB float64)


def _row_chunks(n_rows: int, n_cols: int) -> list[slice]:
    step = max(1, CHUNK_ELEMENTS // max(n_cols, 1))
    return [slice(a, min(a + step, n_rows)) for a in range(0, n_rows, step)]


def _simulate_counts(
    rng: np.random.Generator, u: _Universe, loading: np.ndarray, s: np.ndarray, prolif_score: np.ndarray, er_pos
) -> np.ndarray:
    """Negative binomial (gamma-Poisson) counts, genes x samples: library size x gene proportion x exp(effects).

    Computed in chunks of genes (rows), so that no temporary of the matrix's size is held beside the gamma means and
    the counts; every value and every draw (all gamma draws, then all Poisson draws, row by row) is as one
    whole-matrix pass would make them, and the column sums of the proportions add the rows in order, as numpy does."""
    G, N = len(u.genes), len(s)
    log_cpm = rng.normal(np.log(3.0), 2.5, size=G)  # wide spectrum: many low genes, some zeros
    core_idx = np.array([u.index[g] for g in u.core])
    # genes of interest spread over the same spectrum, but measurable (>= 4 CPM)
    log_cpm[core_idx] = np.maximum(log_cpm[core_idx], np.log(4.0) + rng.exponential(1.0, size=core_idx.size))
    extra = np.zeros(G, dtype=np.int8)  # 1: proliferation gene, 2: luminal gene
    extra[[u.index[g] for g in u.prolif]] = 1
    extra[[u.index[g] for g in u.luminal]] = 2
    er_effect = 1.5 * (er_pos - er_pos.mean())

    def proportions(rows: slice) -> np.ndarray:  # exp(log CPM + effects), before the division by the column sums
        effects = np.outer(loading[rows], s)
        effects[extra[rows] == 1] += 0.7 * prolif_score
        effects[extra[rows] == 2] += er_effect
        return np.exp(log_cpm[rows, None] + effects)

    chunks = _row_chunks(G, N)
    col_sum = np.zeros(N)
    for rows in chunks:
        for row in proportions(rows):
            col_sum += row
    lib = np.exp(rng.normal(np.log(20e6), 0.4, size=N))
    lam = []
    for rows in chunks:
        mu = proportions(rows) / col_sum * lib
        phi = 0.05 + 1.0 / np.sqrt(np.maximum(mu.mean(axis=1), 1e-3))
        shape = 1.0 / phi
        lam.append(rng.gamma(shape[:, None], (mu / shape[:, None])))
    counts = np.empty((G, N), dtype=np.int64)
    for i, rows in enumerate(chunks):
        counts[rows] = rng.poisson(lam[i])
        lam[i] = None
    return counts


BASELINE_HAZARD = 0.0045  # per month; gives ~40% distant relapses within follow-up


def _simulate_outcome(rng: np.random.Generator, s: np.ndarray, hr_per_sd: float) -> dict[str, np.ndarray]:
    """Metastasis-free survival (exponential, HR ``hr_per_sd`` per SD of s; censoring at 120 months plus loss to
    follow-up), the site of first relapse (multinomial logit on s) and age."""
    N = len(s)
    t_event = rng.exponential(1.0 / (BASELINE_HAZARD * np.exp(np.log(hr_per_sd) * s)))
    t_cens = np.minimum(120.0, rng.uniform(30.0, 240.0, size=N))
    event = t_event <= t_cens
    time = np.round(np.maximum(np.where(event, t_event, t_cens), 0.1), 2)
    logits = np.column_stack([0.8 * s, 0.3 + 0.6 * s, -0.8 + 0.8 * s, np.zeros(N)])
    p_site = np.exp(logits - logits.max(axis=1, keepdims=True))
    p_site /= p_site.sum(axis=1, keepdims=True)
    u = rng.random(N)[:, None]
    site_idx = (u > np.cumsum(p_site, axis=1)).sum(axis=1)
    site = np.where(event, np.array(SITES, dtype=object)[np.minimum(site_idx, 3)], None)
    age = np.clip(np.round(rng.normal(55, 12, size=N)), 25, 90).astype(int)
    return {"time": time, "event": event, "site": site, "age": age}


def _write_cohort(
    out: Path, row_ids: np.ndarray, counts: np.ndarray, samples: list[str], outcome: dict, er_pos: np.ndarray
) -> None:
    """counts.tsv.gz (rows sorted by id; written in chunks of rows, the text as one ``to_csv`` of the whole table)
    and clinical.tsv."""
    out.mkdir(parents=True, exist_ok=True)
    order = np.argsort(row_ids.astype(str), kind="mergesort")
    with (
        atomic_path(out / "counts.tsv.gz") as tmp,
        open(tmp, "wb") as fh,
        gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=6, mtime=0, filename="") as gz,
    ):
        for i, rows in enumerate(_row_chunks(len(order), counts.shape[1])):
            chunk = pd.DataFrame(counts[order[rows]], columns=samples)
            chunk.insert(0, "gene", row_ids[order[rows]])
            gz.write(chunk.to_csv(sep="\t", index=False, header=i == 0).encode())
    clinical = pd.DataFrame(
        {
            "sample": samples,
            "mfs_months": outcome["time"],
            "mfs_event": outcome["event"].astype(int),
            "relapse_site": outcome["site"],
            "er_status": np.where(er_pos, "positive", "negative"),
            "age": outcome["age"],
        }
    )
    with atomic_path(out / "clinical.tsv") as tmp:
        clinical.to_csv(tmp, sep="\t", index=False, na_rep="NA")


def simulate_cohort(
    out_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    n_samples: int = EXAMPLE_DEFAULTS["n_samples"],
    n_genes: int = EXAMPLE_DEFAULTS["n_genes"],
    signature_dir: str | Path | None = None,
    organ_loading: float = ORGAN_LOADING,
    hr_per_sd: float = HR_PER_SD,
) -> dict:
    """Write counts.tsv.gz, clinical.tsv and truth.json into ``out_dir``; return the truth dict.

    ``organ_loading=0`` plants no link between the self-seeding program and the organ signatures (only
    the shared genes remain), ``hr_per_sd=1`` no link with outcome: the null cohorts of the calibration tests.
    The defaults of ``seed``, ``n_samples`` and ``n_genes`` are the config's ``example.*``; a size the simulator
    cannot make (more genes than the HGNC table has, fewer than the signatures need, fewer than 3 samples) raises
    :class:`SeedsigError` naming the option and its allowed range. Memory: about two count matrices (int64 and
    float64) of n_genes x n_samples."""

    rng = np.random.default_rng(seed)
    sig_dir = Path(signature_dir) if signature_dir else default_signature_dir()
    sigs = {s.name: s for s in load_signatures([sig_dir / f for f in SHIPPED_SIGNATURE_FILES])}
    tab = hgnc_table()
    approved = set(tab["symbol"])

    def genes_of(name: str) -> list[str]:
        s = sigs[name]
        return [g for g, r in zip(s.genes, s.resolution) if g in approved and r not in ("unmapped", "ambiguous")]

    sig_genes = sorted({g for name in sigs for g in genes_of(name)})
    check_size(n_genes, n_samples, len(_core_genes(tab, sig_genes)[0]), len(approved))
    universe = _gene_universe(rng, sig_genes, n_genes)
    N = n_samples
    # latent programs and clinical covariates
    s = rng.standard_normal(N)
    prolif_score = rng.standard_normal(N)
    er_pos = rng.random(N) < 0.7
    # which genes the self-seeding program drives, and in which direction
    independent_genes = {g for name in UNDRIVEN for g in genes_of(name)}
    direction, candidates = _organ_directions(sigs, universe.index, independent_genes)
    driven = _driven_genes(rng, sigs, candidates)
    loading = np.zeros(len(universe.genes))
    for g in SS_GENES:
        loading[universe.index[g]] = SS_LOADING
    for g in driven:
        loading[universe.index[g]] = organ_loading * direction[g]
    counts = _simulate_counts(rng, universe, loading, s, prolif_score, er_pos)
    outcome = _simulate_outcome(rng, s, hr_per_sd)
    # outdated symbols
    renames = dict(RENAMED)
    renames.update(_pick_renames(rng, universe.fillers))
    row_ids = np.array([renames.get(g, g) for g in universe.genes], dtype=object)
    samples = [f"S{i + 1:03d}" for i in range(N)]
    out = Path(out_dir)
    _write_cohort(out, row_ids, counts, samples, outcome, er_pos)

    shared = {
        name: sorted(set(genes_of(name)) & set(SS_GENES))
        for name in UNDRIVEN
        if name in sigs and set(genes_of(name)) & set(SS_GENES)
    }
    truth = _truth(
        seed, sigs, universe, driven, genes_of, shared, renames, counts, outcome, er_pos, organ_loading, hr_per_sd
    )
    truth["latent_ss"] = dict(zip(samples, np.round(s, 6).tolist()))
    with atomic_path(out / "truth.json") as tmp:
        tmp.write_text(json.dumps(truth, indent=2) + "\n")
    return truth


def _truth(
    seed, sigs, universe, driven, genes_of, shared, renames, counts, outcome, er_pos, organ_loading, hr_per_sd
) -> dict:
    """Everything planted (truth.json), but the latent program per sample."""
    event, site = outcome["event"], outcome["site"]
    lib_sizes = counts.sum(axis=0)
    return {
        "seed": seed,
        "n_samples": counts.shape[1],
        "n_genes": len(universe.genes),
        "model": "negative binomial counts; log mean = log(library size x proportion) + loading x latent "
        "self-seeding program s ~ N(0,1)",
        "latent_loading_log": {"ss_genes": SS_LOADING, "organ_genes": organ_loading},
        "driven_fraction": DRIVEN_FRACTION,
        "correlated_signatures": [n for n in CORRELATED if n in sigs]
        if organ_loading
        else [n for n in ("SS", "SS_attraction", "SS_infiltration") if n in sigs],
        "independent_signatures": [n for n in UNDRIVEN if n in sigs and n not in shared],
        "shared_gene_signatures": shared,
        "driven_genes": {
            name: sorted(g for g in genes_of(name) if g in set(driven) or g in SS_GENES)
            for name in CORRELATED
            if name in sigs
        },
        "hazard_ratio_per_sd_latent": hr_per_sd,
        "baseline_hazard_per_month": BASELINE_HAZARD,
        "event_rate": round(float(event.mean()), 4),
        "n_events": int(event.sum()),
        "site_model": "multinomial logit: lung 0.8 s, bone 0.3 + 0.6 s, brain -0.8 + 0.8 s, liver 0 (reference)",
        "site_counts": {k: int((site == k).sum()) for k in SITES},
        "er_positive_fraction": round(float(er_pos.mean()), 4),
        "proliferation_genes": universe.prolif,
        "luminal_genes": universe.luminal,
        "aliased_genes": {renames[g]: g for g in sorted(renames)},
        "library_size": {
            "median": float(np.median(lib_sizes)),
            "p05": float(np.percentile(lib_sizes, 5)),
            "p95": float(np.percentile(lib_sizes, 95)),
        },
    }


@dataclass
class BulkProfiles:
    """The bulk simulator's cohort as per-sample expression profiles (genes x samples proportions)."""

    genes: pd.Index
    samples: list[str]
    prop: np.ndarray
    clinical: pd.DataFrame
    truth: dict


def bulk_profiles(seed: int, n_samples: int, n_genes: int, signature_dir: str | Path | None) -> BulkProfiles:
    """:func:`simulate_cohort` (same seed, samples, genes) read back as each sample's profile and clinical data."""
    with tempfile.TemporaryDirectory(prefix="seedsig-sc-") as tmp:
        truth = simulate_cohort(tmp, seed=seed, n_samples=n_samples, n_genes=n_genes, signature_dir=signature_dir)
        bulk = pd.read_csv(Path(tmp) / "counts.tsv.gz", sep="\t", index_col=0, dtype={"gene": str})
        clinical = pd.read_csv(Path(tmp) / "clinical.tsv", sep="\t", index_col=0, dtype={"sample": str})
    prop = bulk.to_numpy(dtype=np.float64)
    prop = prop / prop.sum(axis=0, keepdims=True)  # genes x samples: each sample's (tumour) profile
    return BulkProfiles(bulk.index.astype(str), list(bulk.columns), prop, clinical, truth)


def other_profile(rng: np.random.Generator, prop: np.ndarray) -> np.ndarray:
    """The profile of the non-tumour cells: the geometric mean of the samples' profiles, 5% of the genes up."""
    other = np.exp(np.log(prop + 1e-9).mean(axis=1))
    module = rng.random(prop.shape[0]) < 0.05
    other[module] *= np.exp(rng.normal(1.5, 0.5, size=int(module.sum())))
    return other / other.sum()


def add_clinical(obs: pd.DataFrame, clinical: pd.DataFrame, samples: list[str], sample_idx: np.ndarray) -> None:
    """Each cell's sample's clinical columns (text as categoricals)."""
    clin = clinical.reindex(samples)
    for c in clin.columns:
        vals = clin[c].to_numpy()[sample_idx]
        obs[c] = pd.Categorical(vals) if clin[c].dtype == object else vals


SC_CELLS_PER_SAMPLE = 150
SC_N_GENES = 3000
SC_N_SAMPLES = 12


def simulate_single_cell(
    seed: int = DEFAULT_SEED,
    n_samples: int = SC_N_SAMPLES,
    cells_per_sample: int = SC_CELLS_PER_SAMPLE,
    n_genes: int = SC_N_GENES,
    *,
    signature_dir: str | Path | None = None,
    median_umis: float = 5000.0,
):
    """A small single-cell cohort (AnnData) built on the bulk simulator's per-sample programme.

    :func:`simulate_cohort` (same seed, ``n_samples``, ``n_genes``: every resolvable gene of the shipped signatures is
    in it) gives each sample's expression profile, driven by its latent self-seeding programme, and its clinical data.
    Each sample gets ``cells_per_sample`` cells: tumour cells (a per-sample fraction, uniform 0.5-0.85) express the
    sample's profile, other cells (stroma/immune) one shared profile (the geometric mean of the samples' profiles with
    a cell-type module of 5% of the genes up). UMIs per cell log-normal (median ``median_umis``), counts gamma-Poisson
    (dispersion 0.3). Drawn with ``np.random.default_rng([seed, 1])`` (the global RNG is not touched).

    Returns an AnnData: X and ``layers['counts']`` the raw counts (CSR, float32), obs ``sample``, ``cell_type``
    (tumour/other), ``n_counts`` (varies per cell) and the sample's clinical columns (constant within a sample:
    mfs_months, mfs_event, relapse_site, er_status, age); ``uns['simulation']`` the latent programme per sample."""

    import anndata as ad
    import scipy.sparse as sp

    bulk = bulk_profiles(seed, n_samples, n_genes, signature_dir)
    genes, samples, prop, clinical, truth = bulk.genes, bulk.samples, bulk.prop, bulk.clinical, bulk.truth
    rng = np.random.default_rng([seed, 1])
    G, N = prop.shape
    other = other_profile(rng, prop)
    tumour_fraction = rng.uniform(0.5, 0.85, size=N)
    sample_idx = np.repeat(np.arange(N), cells_per_sample)
    n_cells = sample_idx.size
    tumour = rng.random(n_cells) < tumour_fraction[sample_idx]
    profile = np.where(tumour[:, None], prop.T[sample_idx], other[None, :])  # cells x genes
    umis = np.exp(rng.normal(np.log(median_umis), 0.5, size=n_cells))
    shape = 1.0 / 0.3
    lam = rng.gamma(shape, profile * umis[:, None] / shape)
    counts = sp.csr_matrix(rng.poisson(lam).astype(np.float32))
    cell_ids = [f"{samples[s]}_c{i:04d}" for s, i in zip(sample_idx, np.tile(np.arange(cells_per_sample), N))]
    obs = pd.DataFrame(
        {"sample": pd.Categorical(np.array(samples, dtype=object)[sample_idx], categories=samples)},
        index=pd.Index(cell_ids, name="cell"),
    )
    obs["cell_type"] = pd.Categorical(np.where(tumour, "tumour", "other"), categories=["tumour", "other"])
    obs["n_counts"] = np.asarray(counts.sum(axis=1)).ravel()
    add_clinical(obs, clinical, samples, sample_idx)
    adata = ad.AnnData(X=counts, obs=obs, var=pd.DataFrame(index=pd.Index(genes, name="gene")))
    adata.layers["counts"] = counts.copy()
    adata.uns["simulation"] = {
        "seed": int(seed),
        "model": "cells of each bulk-simulated sample: tumour cells express the sample's profile (its self-seeding "
        "programme), other cells one shared profile; gamma-Poisson UMIs",
        "latent_ss": {k: float(v) for k, v in truth["latent_ss"].items()},
        "tumour_fraction": {s: round(float(f), 6) for s, f in zip(samples, tumour_fraction)},
        "cells_per_sample": int(cells_per_sample),
        "median_umis": float(median_umis),
    }
    return adata
