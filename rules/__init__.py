"""The bundled rule set, installed as package data (rule authors can ignore this file)."""
