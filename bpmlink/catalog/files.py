"""Files and spreadsheets («Файлы и таблицы»): a CSV or XLSX published at a link (a Google sheet, an
Excel file on a site), polled for new rows (`bpmlink.sources.sheet_url`)."""

from __future__ import annotations

from .generic import _INTERVAL
from .model import App, FormField, SourceField, Trigger
from .model import label as _l

SHEET_URL = App(
    key="sheet_url",
    label=_l("Spreadsheet at a URL (CSV, XLSX)", "Таблица по ссылке (CSV, XLSX)"),
    category="files",
    description=_l(
        "New rows of a sheet published at a link: a Google sheet, a CSV or XLSX file on a site",
        "Новые строки таблицы, опубликованной по ссылке: Google Таблица, файл CSV или XLSX на сайте",
    ),
    keywords=[
        "google sheets",
        "google таблицы",
        "гугл таблица",
        "гугл таблицы",
        "spreadsheet",
        "таблица",
        "excel",
        "эксель",
        "xlsx",
        "csv",
        "файл",
        "file",
    ],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="new_rows",
            label=_l("New rows", "Новые строки"),
            kind="polling",
            description=_l(
                "Each new row of the sheet becomes an event; rows are told apart by the key column",
                "Каждая новая строка таблицы — отдельное событие; строки различаются по ключевому столбцу",
            ),
            config_fields=[
                FormField(
                    name="url",
                    label=_l("Link to the file (CSV or XLSX)", "Ссылка на файл (CSV или XLSX)"),
                    type="url",
                    required=True,
                    help=_l(
                        "a Google sheet: File → Share → Publish to web → CSV, the link given there",
                        "Google Таблица: Файл → Поделиться → Опубликовать в интернете → CSV, ссылка оттуда",
                    ),
                ),
                FormField(
                    name="key_column",
                    label=_l("Key column", "Ключевой столбец"),
                    required=True,
                    help=_l(
                        "the header of a column whose value is unique per row (an id, an e-mail, a number)",
                        "заголовок столбца, значение которого у каждой строки своё (номер, e-mail, артикул)",
                    ),
                ),
                FormField(
                    name="first_poll",
                    label=_l("On the first check", "При первой проверке"),
                    type="select",
                    default="new",
                    options=["new", "all"],
                    help=_l(
                        "new: only rows added after the bundle starts; all: the rows already there too",
                        "new — только строки, добавленные после запуска связки; all — и уже имеющиеся строки",
                    ),
                ),
                FormField(
                    name="changed_rows",
                    label=_l("Changed rows too", "Также изменённые строки"),
                    type="boolean",
                    default=False,
                    help=_l(
                        "a row whose values change is sent again (its key stays the same)",
                        "строка, в которой изменились значения, отправляется снова (ключ тот же)",
                    ),
                ),
                FormField(
                    name="format",
                    label=_l("File format", "Формат файла"),
                    type="select",
                    default="auto",
                    options=["auto", "csv", "xlsx"],
                ),
                FormField(
                    name="header_row",
                    label=_l("Header row", "Строка заголовков"),
                    type="integer",
                    default=1,
                    help=_l(
                        "the number of the row that names the columns; the rows above it are ignored",
                        "номер строки с названиями столбцов; строки выше неё не читаются",
                    ),
                ),
                FormField(
                    name="delimiter",
                    label=_l("CSV delimiter", "Разделитель CSV"),
                    type="select",
                    default="auto",
                    options=["auto", ",", ";", "tab", "|"],
                ),
                FormField(
                    name="encoding",
                    label=_l("CSV encoding", "Кодировка CSV"),
                    type="select",
                    default="auto",
                    options=["auto", "utf-8", "windows-1251"],
                    help=_l(
                        "auto: UTF-8 (with or without a BOM), else windows-1251",
                        "auto — UTF-8 (с BOM или без), иначе windows-1251",
                    ),
                ),
                _INTERVAL,
            ],
            fields=[
                SourceField(
                    path="_row",
                    label=_l("Row number (1 = the first data row)", "Номер строки (1 — первая строка данных)"),
                    example=1,
                ),
            ],
            instructions=_l(
                "**A Google sheet**\n"
                "1. Open the sheet and choose **File → Share → Publish to web**.\n"
                "2. Under **Link**, pick the sheet (tab) with the rows and the format "
                "**Comma-separated values (.csv)**, then press **Publish**.\n"
                "3. Copy the link it shows (it ends in `output=csv`) into **Link to the file**.\n"
                "\n"
                "**A CSV or XLSX file on a site**: paste its direct link (it must download the file itself, "
                "without a login).\n"
                "\n"
                "The first row holds the column names (or set **Header row**); each row arrives with its "
                "columns as fields and `_row`, its number. Name in **Key column** a column whose value is "
                "unique per row: a row is new when its key has not been seen before. Rows with an empty key "
                "are skipped and counted in the check's history.\n"
                "By default the first check only notes the rows already there and sends **only rows added "
                "after the bundle starts**; choose **all** to send the existing rows too, or load them later "
                "with **Transfer existing data**. The file may be up to 20 MB.",
                "**Google Таблица**\n"
                "1. Откройте таблицу и выберите **Файл → Поделиться → Опубликовать в интернете**.\n"
                "2. На вкладке **Ссылка** выберите лист со строками и формат "
                "**Значения, разделённые запятыми (.csv)**, затем нажмите **Опубликовать**.\n"
                "3. Скопируйте показанную ссылку (она заканчивается на `output=csv`) в поле **Ссылка на файл**.\n"
                "\n"
                "**Файл CSV или XLSX на сайте**: вставьте прямую ссылку на него (по ней должен скачиваться "
                "сам файл, без входа в систему).\n"
                "\n"
                "В первой строке — названия столбцов (или укажите **Строку заголовков**); каждая строка "
                "приходит со столбцами в виде полей и `_row` — номером строки. В поле **Ключевой столбец** "
                "укажите столбец, значение которого у каждой строки своё: строка новая, если её ключ ещё не "
                "встречался. Строки с пустым ключом пропускаются, их число видно в истории проверки.\n"
                "По умолчанию первая проверка только запоминает уже имеющиеся строки и отправляет **только "
                "строки, добавленные после запуска связки**; выберите **all**, чтобы отправить и имеющиеся, "
                "или загрузите их позже через **Перенести существующие данные**. Размер файла — "
                "до 20 МБ.",
            ),
        )
    ],
)

FILE_APPS = (SHEET_URL,)
