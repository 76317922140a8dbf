"""Forms shared by the admin pages of campaigns (creation, parameters) and of simulations."""
