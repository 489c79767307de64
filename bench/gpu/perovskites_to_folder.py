"""Writes ../shared/data/perovskites/perovskites.csv as a CGCNN-style folder (one CIF per crystal + id_prop.csv with
heat_ref, heat_all) for builds that cannot read the CSV form directly. Usage: perovskites_to_folder.py <csv> <folder>"""
import csv
import os
import sys

csv.field_size_limit(1 << 24)
source, folder = sys.argv[1], sys.argv[2]
os.makedirs(folder, exist_ok=True)
with open(source, newline="") as f, open(os.path.join(folder, "id_prop.csv"), "w") as table:
    table.write("id,heat_ref,heat_all\n")
    for row in csv.DictReader(f):
        name = f"perov-{row['material_id']}"
        with open(os.path.join(folder, name + ".cif"), "w") as cif:
            cif.write(row["cif"])
        table.write(f"{name},{row['heat_ref']},{row['heat_all']}\n")
