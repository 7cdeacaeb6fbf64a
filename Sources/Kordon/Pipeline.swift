import KordonCore
