import journal from './meta/_journal.json';
import m0000 from './0000_wise_jean_grey.sql';
import m0001 from './0001_hesitant_swarm.sql';
import m0002 from './0002_nifty_ser_duncan.sql';
import m0003 from './0003_long_jackal.sql';
import m0004 from './0004_easy_mordo.sql';
import m0005 from './0005_colossal_princess_powerful.sql';
import m0006 from './0006_military_silver_fox.sql';
import m0007 from './0007_ambitious_skullbuster.sql';
import m0008 from './0008_material_bullseye.sql';
import m0009 from './0009_superb_malice.sql';
import m0010 from './0010_blue_hemingway.sql';
import m0011 from './0011_ancient_doctor_spectrum.sql';

  export default {
    journal,
    migrations: {
      m0000,
m0001,
m0002,
m0003,
m0004,
m0005,
m0006,
m0007,
m0008,
m0009,
m0010,
m0011
    }
  }
  