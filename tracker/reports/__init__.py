"""Dashboards, printable reports and the xlsx/CSV ledger (台账) in and out."""
