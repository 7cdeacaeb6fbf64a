print("kordon")
