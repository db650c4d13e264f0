"""manage.py export_drawings --out DIR: drawings for training and Quick, Draw! tools."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guessgame.review import export

FORMAT_CHOICES = (*export.FORMATS, "all")


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date; write it as YYYY-MM-DD.") from exc


class Command(BaseCommand):
    help = (
        "Export players' drawings (28x28 images, labels, ids and metadata) as drawings.npz, "
        "and optionally 28x28 PNGs with manifest.csv and the strokes as Quick, Draw! raw "
        "ndjson. Rejected and blank drawings are never exported; relabelled drawings carry "
        "the reviewer's label. Ordered by id, so the same data gives the same files; every "
        "file is written to a temporary name and renamed, so an interrupted run can simply "
        "be run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="Folder to write into (created).")
        parser.add_argument(
            "--status",
            action="append",
            default=None,
            help=(
                "Review status to include; repeat it or give a comma list "
                f"(default: {','.join(export.DEFAULT_STATUSES)}). 'rejected' is refused."
            ),
        )
        parser.add_argument(
            "--since", type=str, default=None, help="First day to include, YYYY-MM-DD (UTC)."
        )
        parser.add_argument(
            "--until", type=str, default=None, help="Last day to include, YYYY-MM-DD (UTC)."
        )
        parser.add_argument(
            "--format",
            choices=FORMAT_CHOICES,
            default="npz",
            help="npz (default), png (with manifest.csv), ndjson (Quick, Draw! raw) or all.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be exported, per label, and write nothing.",
        )

    def handle(self, *args, **options) -> None:
        from tqdm import tqdm

        statuses = [
            part.strip()
            for value in (options["status"] or [",".join(export.DEFAULT_STATUSES)])
            for part in value.split(",")
            if part.strip()
        ]
        formats = export.FORMATS if options["format"] == "all" else (options["format"],)
        since = parse_day(options["since"]) if options["since"] else None
        until = parse_day(options["until"]) if options["until"] else None

        def progress(rows, total):
            return tqdm(rows, total=total, desc="drawings", unit="drawing", file=self.stderr)

        try:
            result = export.export_drawings(
                out_dir=options["out"],
                statuses=statuses,
                since=since,
                until=until,
                formats=formats,
                dry_run=options["dry_run"],
                progress=progress,
            )
        except export.ExportError as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write("label  drawings")
        for label in range(10):
            self.stdout.write(f"{label:>5}  {result.per_label.get(label, 0):>8}")
        if result.skipped_unreadable:
            self.stdout.write(
                self.style.WARNING(f"Skipped {result.skipped_unreadable} blank or unreadable.")
            )
        if "png" in formats and not options["dry_run"]:
            self.stdout.write(
                f"PNGs: {result.pngs_written} written, {result.pngs_skipped} already there."
            )
        verb = "Would export" if options["dry_run"] else "Exported"
        where = "" if options["dry_run"] else f" to {result.out_dir}"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {result.count} drawings ({', '.join(formats)}){where}.")
        )
