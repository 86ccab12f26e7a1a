"""Command-line interface: ``seedsig simulate | normalize | score | reference | download | check-config``.

The same code paths as the Snakemake rules, for use outside the pipeline. Heavy packages are
imported only inside the commands that need them, so ``seedsig --help`` starts fast.
A user mistake prints one ``seedsig: error: ...`` line and exits with status 2. The options' choices and defaults
are those of the matching config keys in the config schema (:mod:`seedsig.core.settings`), and numeric options are
checked against the range of that key (:data:`RANGES`, the one source of the ranges); an ``--out`` that is one of
the command's input files is refused.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Callable

from seedsig import __version__
from seedsig.core.errors import SeedsigError
from seedsig.core.settings import (
    EXAMPLE_DEFAULTS,
    GEO_DEFAULTS,
    NORMALIZE_DEFAULTS,
    SCORING_DEFAULTS,
    schema_choices,
    schema_path,
)

# The choices of the options, from the config and cohort-sheet schemas (whose enums are the registries' method
# lists: seedsig.normalize.methods, seedsig.scoring.methods; tests/unit/test_defaults.py), so --help starts fast.
DATA_TYPES = schema_choices("data_type", schema_path("cohorts.schema.yaml"))
# every normalization step of any data type: = seedsig.normalize.methods.NORMALIZATION_METHODS
NORMALIZATION_METHODS = tuple(dict.fromkeys(m for t in DATA_TYPES for m in schema_choices(f"normalize.{t}")))


def _cmd_simulate(args: argparse.Namespace) -> None:
    from seedsig.simulate import simulate_cohort

    if args.single_cell and args.n_cells is not None:
        _simulate_atlas(args)
        return
    if args.detected_genes is not None:
        args._parser.error("argument --detected-genes: only with --single-cell and --n-cells (the atlas)")
    if args.single_cell:
        from seedsig.core.tables import atomic_path
        from seedsig.simulate import (
            SC_CELLS_PER_SAMPLE,
            SC_N_GENES,
            SC_N_SAMPLES,
            simulate_single_cell,
        )

        adata = simulate_single_cell(
            seed=args.seed,
            n_samples=args.n_samples if args.n_samples is not None else SC_N_SAMPLES,
            cells_per_sample=args.cells_per_sample or SC_CELLS_PER_SAMPLE,
            n_genes=args.n_genes if args.n_genes is not None else SC_N_GENES,
            signature_dir=args.signature_dir,
        )
        with atomic_path(args.single_cell) as tmp:
            adata.write_h5ad(tmp)
        print(
            f"wrote {args.single_cell} ({adata.n_obs} cells x {adata.n_vars} genes, "
            f"{adata.obs['sample'].nunique()} samples, seed {args.seed})"
        )
        return
    args.n_samples = EXAMPLE_DEFAULTS["n_samples"] if args.n_samples is None else args.n_samples
    args.n_genes = EXAMPLE_DEFAULTS["n_genes"] if args.n_genes is None else args.n_genes
    truth = simulate_cohort(
        Path(args.out), seed=args.seed, n_samples=args.n_samples, n_genes=args.n_genes, signature_dir=args.signature_dir
    )
    print(
        f"wrote {args.out}/counts.tsv.gz, clinical.tsv, truth.json "
        f"({truth['n_genes']} genes x {truth['n_samples']} samples, seed {truth['seed']})"
    )


def _simulate_atlas(args: argparse.Namespace) -> None:
    """--single-cell with --n-cells: the atlas of any size, written a block of cells at a time."""
    from seedsig.simulate import SC_N_GENES, SC_N_SAMPLES
    from seedsig.simulate_atlas import ATLAS_DETECTED, write_single_cell_atlas

    if args.cells_per_sample is not None:
        args._parser.error("argument --cells-per-sample: not with --n-cells (cells are split evenly over the samples)")
    info = write_single_cell_atlas(
        args.single_cell,
        n_cells=args.n_cells,
        n_samples=args.n_samples if args.n_samples is not None else SC_N_SAMPLES,
        n_genes=args.n_genes if args.n_genes is not None else SC_N_GENES,
        detected_genes=args.detected_genes if args.detected_genes is not None else ATLAS_DETECTED,
        seed=args.seed,
        signature_dir=args.signature_dir,
        threads=args.threads,
    )
    d = info["detected_genes"]
    print(
        f"wrote {args.single_cell} ({info['n_cells']} cells x {info['n_genes']} genes, {info['n_samples']} samples, "
        f"{info['nnz']} stored counts; detected genes per cell {d['min']}-{d['max']}, median {d['median']:g}; "
        f"seed {args.seed})"
    )


def _cmd_normalize(args: argparse.Namespace) -> None:

    from seedsig.core.provenance import provenance, write_sidecar
    from seedsig.core.tables import read_matrix, write_table
    from seedsig.normalize.lengths import match_lengths, read_gene_lengths
    from seedsig.normalize.methods import (
        COUNT_METHODS,
        filter_by_expr,
        normalize_matrix,
        parse_steps,
    )

    df = read_matrix(args.input, what="input matrix", threads=args.threads)
    steps = parse_steps(args.method)
    data_type = args.data_type or ("counts" if steps[0] in COUNT_METHODS else None)
    where = f"input matrix '{args.input}'"
    n_filtered = 0
    if args.filter_by_expr:
        if data_type != "counts":
            raise SeedsigError(
                "--filter-by-expr filters raw counts: use it with a count method (or --data-type counts)."
            )
        from seedsig.ingest.checks import check_counts

        check_counts(df, where)
        keep = filter_by_expr(df.to_numpy())
        n_filtered = int((~keep).sum())
        df = df.loc[keep]
    lengths = None
    if args.gene_lengths:
        lengths = match_lengths([[str(i)] for i in df.index], read_gene_lengths(args.gene_lengths))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, info = normalize_matrix(
            df,
            steps,
            data_type=data_type,
            prior_count=args.prior_count,
            gene_lengths=lengths,
            pseudocount=args.pseudocount,
            size_factors=args.size_factors,
            where=where,
        )
    for w in caught:
        print(f"seedsig: warning: {w.message}", file=sys.stderr)
    out.index.name = df.index.name or "gene_id"
    write_table(out.reset_index(), args.out, float_format="%.12g")
    params = {
        "method": info["method"],
        "data_type": data_type,
        "prior_count": args.prior_count,
        "pseudocount": args.pseudocount,
        "size_factors": args.size_factors,
        "gene_lengths": args.gene_lengths or "",
        "filter_by_expr": args.filter_by_expr,
        "n_filtered_genes": n_filtered,
    }
    write_sidecar(
        args.out,
        provenance(
            params, inputs=[args.input, *([args.gene_lengths] if args.gene_lengths else [])], normalization=info
        ),
    )
    filtered = f"; {n_filtered} genes filtered" if args.filter_by_expr else ""
    print(f"wrote {args.out} ({out.shape[0]} genes x {out.shape[1]} samples, {info['method']}{filtered})")


def _checked_matrix(args: argparse.Namespace):
    """The expression matrix of ``--expr`` with the pipeline's ingest checks, and its rows' symbols."""
    from seedsig.core.tables import read_matrix
    from seedsig.ingest.checks import check_expression
    from seedsig.ingest.ids import read_platform_annotation

    expr = read_matrix(args.expr, what="expression matrix", threads=args.threads)
    if args.gene_id == "probe" and not args.platform_annotation:
        raise SeedsigError(
            "--gene-id probe needs --platform-annotation (a GEO GPL table or .annot file mapping probe ids to genes)."
        )
    ann = read_platform_annotation(args.platform_annotation) if args.gene_id == "probe" else None
    # the checks of the pipeline's ingest (infinite values, transposed, raw counts or un-logged values, ids)
    where = f"expression matrix '{args.expr}'"
    checked = check_expression(
        expr, where, "log_expression", args.gene_id, annotation=ann, orientation=None, command=args.command
    )
    for warning in checked.warnings:
        print(f"seedsig: warning: {warning}", file=sys.stderr)
    return expr, checked.mapping["symbol"].tolist()


def _method_params(args: argparse.Namespace) -> dict:
    if args.method == "ssgsea":
        return {"alpha": args.alpha, "normalize": args.ssgsea_normalize}
    if args.method == "score_genes":
        return {"random_state": args.seed}
    if args.method == "ucell":
        return {"max_rank": args.ucell_max_rank, "w_neg": args.ucell_w_neg, "flavor": args.ucell_flavor}
    if args.method == "aucell":
        return {"max_rank_fraction": args.aucell_max_rank_fraction}
    return {}


def _cmd_reference(args: argparse.Namespace) -> None:
    from seedsig.core.provenance import provenance, write_sidecar
    from seedsig.scoring.reference import build_reference, save_reference
    from seedsig.scoring.signatures import load_signatures

    expr, symbols = _checked_matrix(args)
    sigs = load_signatures(args.signatures)
    ref = build_reference(
        expr,
        sigs,
        args.method,
        row_symbols=symbols,
        params=_method_params(args),
        min_genes=args.min_genes,
        min_fraction=args.min_fraction,
        cohort=args.cohort or Path(args.expr).name,
        threads=args.threads,
    )
    save_reference(ref, args.out)
    write_sidecar(args.out, provenance(ref.record(), inputs=[args.expr, *args.signatures]))
    print(f"wrote {args.out} ({args.method} reference: {ref.info['n_samples']} samples, {ref.info['n_genes']} genes)")


def _cmd_score(args: argparse.Namespace) -> None:
    from seedsig.core.provenance import provenance, write_sidecar
    from seedsig.core.tables import write_table
    from seedsig.scoring.methods import score
    from seedsig.scoring.reference import anchored_provenance, check_method, load_reference, score_with_reference
    from seedsig.scoring.signatures import load_signatures

    if args.reference and args.contributions:
        raise SeedsigError(
            "--contributions is computed on the cohort's own statistics, not against a reference: leave out "
            "--reference or --contributions."
        )
    expr, symbols = _checked_matrix(args)
    sigs = load_signatures(args.signatures)
    kwargs = {"row_symbols": symbols, "min_genes": args.min_genes, "min_fraction": args.min_fraction}
    if args.reference:  # the reference's parameters
        ref = load_reference(args.reference)
        check_method(ref, args.method, args.reference)
        res = score_with_reference(expr, sigs, ref, threads=args.threads, **kwargs)
        record = anchored_provenance(res.provenance(), ref, args.reference)
    else:
        res = score(expr, sigs, args.method, params=_method_params(args), threads=args.threads, **kwargs)
        record = res.provenance()
    table = res.scores.copy()
    table.index.name = "sample"
    write_table(table.reset_index(), args.out, float_format="%.12g")
    inputs = [args.expr, *args.signatures, *([args.reference] if args.reference else [])]
    write_sidecar(args.out, provenance(record, inputs=inputs, coverage=res.coverage.to_dict("records")))
    if args.contributions:
        _write_contributions(args, expr, sigs, symbols, _method_params(args))
    not_scored = res.coverage.loc[~res.coverage["scored"], ["signature", "reason"]]
    for rec in not_scored.itertuples(index=False):
        print(f"seedsig: note: {rec.signature} not scored: {rec.reason}", file=sys.stderr)
    print(f"wrote {args.out} ({table.shape[0]} samples x {table.shape[1]} signatures, {args.method})")


def _write_contributions(args: argparse.Namespace, expr, sigs, symbols: list, params: dict) -> None:
    """``seedsig score --contributions OUT``: the per-gene contributions (the pipeline's contributions table)."""
    from seedsig.core.provenance import provenance, write_sidecar
    from seedsig.core.tables import write_table_blocks
    from seedsig.scoring.contributions import CONTRIBUTION_COLUMNS, contribution_blocks

    blocks, _, p, kind = contribution_blocks(
        expr,
        sigs,
        args.method,
        row_symbols=symbols,
        min_genes=args.min_genes,
        min_fraction=args.min_fraction,
        params=params,
        threads=args.threads,
    )
    n = write_table_blocks(CONTRIBUTION_COLUMNS, blocks, args.contributions, float_format="%.12g")
    write_sidecar(
        args.contributions,
        provenance({"method": args.method, "parameters": p, "kind": kind}, inputs=[args.expr, *args.signatures]),
    )
    print(f"wrote {args.contributions} ({n} rows: sample x signature x gene, {kind})")


def _cmd_download(args: argparse.Namespace) -> None:
    from seedsig.ingest.download import (
        fetch_geo,
        fetch_geo_platform,
        parse_accession,
        series_platform,
    )

    accessions = [parse_accession(a) for a in args.accessions]  # every accession checked before any download
    opts = {"retries": args.retries, "timeout": args.timeout, "progress": not args.no_progress}
    for acc, gpl in accessions:
        name = f"geo:{acc}-{gpl}" if gpl else f"geo:{acc}"
        paths = fetch_geo(name, args.cache, geo_base=args.geo_base, download_base=args.download_base, **opts)
        for kind, path in paths.items():
            print(f"{name} {kind}: {path}")
        if "series_matrix" in paths and "ncbi_counts" not in paths:
            platform = series_platform(paths["series_matrix"], name)
            if args.with_platform:
                path = fetch_geo_platform(platform, args.cache, geo_base=args.geo_base, **opts)
                print(f"{name} platform_annotation ({platform}): {path}")
            else:
                print(f"{name} platform: {platform} (add geo:{platform} or --with-platform to fetch its annotation)")


def _cmd_check_config(args: argparse.Namespace) -> int:
    from seedsig.config import check_config_file

    bad = 0
    for f in args.files:
        try:
            check_config_file(f)
        except SeedsigError as exc:
            bad += 1
            print(exc, file=sys.stderr)
        else:
            print(f"{f}: ok")
    return 1 if bad else 0


# option -> config key whose schema range it shares, per command: (dest, option, key, applies(args))
RANGES: dict[str, list[tuple[str, str, str, Callable[[argparse.Namespace], bool]]]] = {
    "normalize": [
        ("prior_count", "--prior-count", "normalize.prior_count", lambda a: True),
        ("pseudocount", "--pseudocount", "normalize.pseudocount", lambda a: True),
    ],
    "score": [
        ("min_genes", "--min-genes", "scoring.min_genes", lambda a: True),
        ("min_fraction", "--min-fraction", "scoring.min_fraction", lambda a: True),
        ("alpha", "--alpha", "scoring.ssgsea.alpha", lambda a: True),
        ("seed", "--seed", "scoring.score_genes.random_state", lambda a: True),
        ("ucell_max_rank", "--ucell-max-rank", "scoring.ucell.max_rank", lambda a: True),
        ("ucell_w_neg", "--ucell-w-neg", "scoring.ucell.w_neg", lambda a: True),
        ("aucell_max_rank_fraction", "--aucell-max-rank-fraction", "scoring.aucell.max_rank_fraction", lambda a: True),
    ],
    "reference": [
        ("min_genes", "--min-genes", "scoring.min_genes", lambda a: True),
        ("min_fraction", "--min-fraction", "scoring.min_fraction", lambda a: True),
        ("alpha", "--alpha", "scoring.ssgsea.alpha", lambda a: True),
        ("seed", "--seed", "scoring.score_genes.random_state", lambda a: True),
    ],
    "download": [
        ("retries", "--retries", "geo.retries", lambda a: True),
        ("timeout", "--timeout", "geo.timeout", lambda a: True),
    ],
    "simulate": [  # the example.* keys are the bulk example's; the single-cell example has no config key
        ("seed", "--seed", "example.seed", lambda a: True),
        ("n_samples", "--n-samples", "example.n_samples", lambda a: not a.single_cell),
        ("n_genes", "--n-genes", "example.n_genes", lambda a: not a.single_cell or a.n_cells is not None),
    ],
}


def _check_ranges(args: argparse.Namespace) -> None:
    from seedsig.core.settings import describe_range, in_range, schema_range

    for dest, option, key, applies in RANGES.get(args.command, []):
        value = getattr(args, dest, None)
        if value is None or not applies(args):
            continue
        bounds = schema_range(key)
        if not in_range(value, bounds):
            rng = describe_range(bounds)
            msg = f"argument {option}: {value:g} is out of range: it must be {rng} (as '{key}' in the config)."
            args._parser.error(msg)


def _io_paths(args: argparse.Namespace) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(option, path) of the files a command writes and of the files it reads."""
    from seedsig.core.provenance import sidecar_path

    if args.command == "normalize":
        outs = [("--out", args.out), ("--out (its sidecar)", str(sidecar_path(args.out)))]
        return outs, [("--input", args.input), *([("--gene-lengths", args.gene_lengths)] if args.gene_lengths else [])]
    if args.command in ("score", "reference"):
        outs = [("--out", args.out), ("--out (its sidecar)", str(sidecar_path(args.out)))]
        if getattr(args, "contributions", None):
            outs += [("--contributions", args.contributions)]
            outs += [("--contributions (its sidecar)", str(sidecar_path(args.contributions)))]
        ins = [("--expr", args.expr), *(("--signatures", f) for f in args.signatures)]
        ins += [("--reference", args.reference)] if getattr(args, "reference", None) else []
        return outs, ins + ([("--platform-annotation", args.platform_annotation)] if args.platform_annotation else [])
    if args.command == "simulate":
        sig_dir = Path(args.signature_dir) if args.signature_dir else None
        ins = [("--signature-dir", str(f)) for f in sorted(sig_dir.glob("*"))] if sig_dir and sig_dir.is_dir() else []
        if args.single_cell:
            return [("--single-cell", args.single_cell)], ins
        return [("--out", str(Path(args.out) / n)) for n in ("counts.tsv.gz", "clinical.tsv", "truth.json")], ins
    return [], []


def _same_file(a: str, b: str) -> bool:
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.resolve() == pb.resolve()


def _refuse_overwrite(args: argparse.Namespace) -> None:
    outs, ins = _io_paths(args)
    for opt_out, out in outs:
        for opt_in, inp in ins:
            if _same_file(out, inp):
                args._parser.error(
                    f"{opt_out} '{out}' is the input file '{inp}' ({opt_in}): seedsig never writes over an input; "
                    "choose another output path."
                )


def _threads(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of threads (a whole number >= 0; 0: every core)")
    return n


def _add_threads(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--threads",
        type=_threads,
        default=0,
        metavar="N",
        help=f"threads for {what} (default 0: every core this process may use)",
    )


def _add_simulate(sub) -> None:
    ex = EXAMPLE_DEFAULTS
    s = sub.add_parser("simulate", help="write the built-in simulated example cohort (counts, clinical, truth)")
    s.add_argument("--out", default="resources/example", help="output directory (default: resources/example)")
    s.add_argument("--seed", type=int, default=ex["seed"])
    s.add_argument(
        "--n-samples", type=int, default=None, help=f"samples (default {ex['n_samples']}; --single-cell: 12)"
    )
    s.add_argument("--n-genes", type=int, default=None, help=f"genes (default {ex['n_genes']}; --single-cell: 3000)")
    s.add_argument(
        "--single-cell",
        default=None,
        metavar="OUT.h5ad",
        help="write the simulated single-cell cohort (AnnData: cells of each sample, raw counts) to this file instead",
    )
    s.add_argument("--cells-per-sample", type=int, default=None, help="--single-cell: cells per sample (default 150)")
    s.add_argument(
        "--n-cells",
        type=int,
        default=None,
        help="--single-cell: an atlas of this many cells instead of the example, written a block of cells at a time "
        "(never whole in memory); cells split evenly over --n-samples",
    )
    s.add_argument(
        "--detected-genes",
        type=int,
        default=None,
        help="--n-cells: median detected genes per cell (default 1000; each cell between 0.6 and 2 times it)",
    )
    s.add_argument("--threads", type=int, default=1, help="--n-cells: threads drawing the cells (default 1)")
    s.add_argument(
        "--signature-dir",
        default=None,
        help="folder with the shipped signature files (default: the repository's config/signatures)",
    )
    s.set_defaults(func=_cmd_simulate, _parser=s)


def _add_normalize(sub) -> None:
    d = NORMALIZE_DEFAULTS
    n = sub.add_parser(
        "normalize", help="normalize a genes x samples TSV (ids unchanged, nothing filtered unless asked)"
    )
    n.add_argument("--input", required=True, help="genes x samples TSV/CSV (first column gene id)")
    n.add_argument(
        "--method",
        required=True,
        nargs="+",
        choices=list(NORMALIZATION_METHODS),
        metavar="METHOD",
        help=f"one method or steps in order, e.g. 'log2 quantile' ({', '.join(NORMALIZATION_METHODS)})",
    )
    n.add_argument("--out", required=True, help="output TSV")
    n.add_argument(
        "--data-type",
        choices=DATA_TYPES,
        default=None,
        help="what the input holds (default: counts for count methods)",
    )
    n.add_argument(
        "--prior-count",
        type=float,
        default=float(d["prior_count"]),
        help=f"edgeR cpm(log=TRUE) prior count (default {d['prior_count']:g})",
    )
    n.add_argument(
        "--pseudocount", type=float, default=d["pseudocount"], help="added before log2 (default 1 after TPM, else 0)"
    )
    n.add_argument(
        "--size-factors",
        choices=schema_choices("normalize.size_factors"),
        default=d["size_factors"],
        help=f"DESeq2 size factors (default {d['size_factors']}: ratio, or poscounts when every gene has a zero)",
    )
    n.add_argument("--gene-lengths", default=None, help="GTF or two-column table (id, length) for tpm")
    n.add_argument(
        "--filter-by-expr",
        action="store_true",
        help="drop low-expression genes first (edgeR filterByExpr defaults; off by default)",
    )
    _add_threads(n, "reading and writing the tables")
    n.set_defaults(func=_cmd_normalize, _parser=n)


def _add_score(sub) -> None:
    d = SCORING_DEFAULTS
    c = sub.add_parser("score", help="score signatures on a genes x samples TSV (every row ranked as given)")
    c.add_argument(
        "--expr", required=True, help="genes x samples TSV/CSV of log-scale expression (first column gene id)"
    )
    c.add_argument("--signatures", required=True, nargs="+", help="signature file(s): TSV (project format) or GMT")
    c.add_argument("--method", required=True, choices=schema_choices("scoring.methods"))
    c.add_argument("--out", required=True, help="output TSV: column sample, then one column per signature")
    c.add_argument(
        "--gene-id",
        default="symbol",
        choices=schema_choices("gene_id", schema_path("cohorts.schema.yaml")),
        help="kind of id in the first column",
    )
    c.add_argument(
        "--platform-annotation", default=None, help="platform annotation (GEO GPL table or .annot) for --gene-id probe"
    )
    c.add_argument("--min-genes", type=int, default=d["min_genes"])
    c.add_argument("--min-fraction", type=float, default=d["min_fraction"])
    alpha = d["ssgsea"]["alpha"]
    c.add_argument("--alpha", type=float, default=alpha, help=f"ssgsea weight exponent (default {alpha})")
    c.add_argument(
        "--ssgsea-normalize",
        action="store_true",
        help="divide ssgsea scores by their range over the run (cohort-relative)",
    )
    seed = d["score_genes"]["random_state"]
    c.add_argument(
        "--seed", type=int, default=seed, help=f"random_state of score_genes' control genes (default {seed})"
    )
    c.add_argument(
        "--contributions",
        default=None,
        metavar="OUT",
        help="also write each gene's contribution to each score (sample, signature, gene, contribution, direction)",
    )
    c.add_argument(
        "--reference",
        default=None,
        help="reference file of --method (.npz, from `seedsig reference` or results/reference/): reference-anchored "
        "scores with the reference's parameters (cohort-relative methods only)",
    )
    _add_ucell_aucell(c, d)
    _add_threads(c, "reading the matrix, ranking and scoring (the scores do not depend on it)")
    c.set_defaults(func=_cmd_score, _parser=c)


def _add_ucell_aucell(c, d: dict) -> None:
    u, a = d["ucell"], d["aucell"]
    c.add_argument(
        "--ucell-flavor",
        choices=schema_choices("scoring.ucell.flavor"),
        default=u["flavor"],
        help=f"ucell as R UCell 2.0-2.6 (r) or pyucell 0.8 (pyucell) (default {u['flavor']})",
    )
    mr = u["max_rank"]
    c.add_argument("--ucell-max-rank", type=int, default=mr, help=f"UCell's maxRank (default {mr})")
    c.add_argument(
        "--ucell-w-neg", type=float, default=u["w_neg"], help=f"ucell weight of the down genes (default {u['w_neg']:g})"
    )
    c.add_argument(
        "--aucell-max-rank-fraction",
        type=float,
        default=a["max_rank_fraction"],
        help=f"AUCell's aucMaxRank as a fraction of the genes (default {a['max_rank_fraction']:g})",
    )


def _add_reference(sub) -> None:
    d = SCORING_DEFAULTS
    c = sub.add_parser(
        "reference", help="save a reference cohort's statistics of a cohort-relative method (for score --reference)"
    )
    c.add_argument("--expr", "--expression", dest="expr", required=True, help="genes x samples TSV/CSV, log scale")
    c.add_argument("--signatures", required=True, nargs="+", help="signature file(s): TSV (project format) or GMT")
    c.add_argument("--method", required=True, choices=schema_choices("scoring.methods"))
    c.add_argument("--out", required=True, help="output reference file (.npz) and its sidecar JSON beside it")
    c.add_argument("--cohort", default="", help="name of the reference cohort recorded in the file")
    c.add_argument("--gene-id", default="symbol", choices=schema_choices("gene_id", schema_path("cohorts.schema.yaml")))
    c.add_argument("--platform-annotation", default=None, help="platform annotation for --gene-id probe")
    c.add_argument("--min-genes", type=int, default=d["min_genes"])
    c.add_argument("--min-fraction", type=float, default=d["min_fraction"])
    c.add_argument("--alpha", type=float, default=d["ssgsea"]["alpha"], help="ssgsea weight exponent")
    c.add_argument("--ssgsea-normalize", action="store_true", help="ssgsea: freeze the range of the scores")
    c.add_argument("--seed", type=int, default=d["score_genes"]["random_state"], help="score_genes' random_state")
    _add_ucell_aucell(c, d)
    _add_threads(c, "reading the matrix and estimating the statistics")
    c.set_defaults(func=_cmd_reference, _parser=c)


def _add_download(sub) -> None:
    g = GEO_DEFAULTS
    d = sub.add_parser("download", help="download GEO inputs by accession into the cache (prefetch for offline runs)")
    d.add_argument(
        "accessions",
        nargs="+",
        metavar="ACCESSION",
        help="geo:GSE2034, geo:GSE781-GPL96 (one platform of a series) or geo:GPL96",
    )
    d.add_argument("--cache", default=g["cache"], help=f"cache directory (config geo.cache; default: {g['cache']})")
    d.add_argument("--geo-base", default=g["base_url"], help="GEO base URL (config geo.base_url)")
    d.add_argument(
        "--download-base",
        default=g["download_url"],
        help="NCBI download URL of RNA-seq counts (config geo.download_url)",
    )
    d.add_argument(
        "--with-platform", action="store_true", help="also fetch the platform annotation of each (microarray) series"
    )
    d.add_argument(
        "--retries",
        type=int,
        default=g["retries"],
        help=f"attempts after the first, with exponential backoff (default {g['retries']})",
    )
    d.add_argument(
        "--timeout",
        type=float,
        default=g["timeout"],
        help=f"seconds without data before an attempt is abandoned (default {g['timeout']:g})",
    )
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    d.set_defaults(func=_cmd_download, _parser=d)


def _add_check_config(sub) -> None:
    k = sub.add_parser("check-config", help="check config YAML files: syntax and schema (file:line:column: problem)")
    k.add_argument("files", nargs="+", metavar="FILE", help="config file(s), e.g. my.yaml (for snakemake --configfile)")
    k.set_defaults(func=_cmd_check_config, _parser=k)


def build_parser() -> argparse.ArgumentParser:
    """The ``seedsig`` parser: one sub-command per ``_add_*``; choices and defaults are the config schema's (the
    registries' method lists, tests/unit/test_defaults.py)."""
    p = argparse.ArgumentParser(
        prog="seedsig", description="Self-seeding and organ-specific metastasis signatures across tumour cohorts."
    )
    p.add_argument("--version", action="version", version=f"seedsig {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for add in (_add_simulate, _add_normalize, _add_score, _add_reference, _add_download, _add_check_config):
        add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_ranges(args)
        _refuse_overwrite(args)
        rc = args.func(args)
    except SeedsigError as exc:
        print(f"seedsig: error: {exc}", file=sys.stderr)
        return 2
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
