import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Types;

/**
 * eCandidat's direct reads and writes on the Apogée-compatible schema (apogee-sql-compat.md §3)
 * through pgjdbc, with PreparedStatements typed as EclipseLink binds them (SQL-6): a Java String
 * with setString (character varying), a number with setInt/setLong, a date with setDate, a null
 * with setNull(VARCHAR). Q4 (by code, then code OR INE), Q5, Q3, N1 (both overloads), N4.
 *
 * Usage: java -cp .:postgresql.jar EcandidatJdbc JDBC_URL USER PASSWORD COD_OPI_INT_EPO COD_IND_OPI
 * (JDBC_URL as the README gives it: jdbc:postgresql://host:5432/db?currentSchema=apogee).
 * Output: one line per check, then "# N passed, M failed"; exit 1 when a check failed.
 */
public class EcandidatJdbc {
    private static int passed = 0;
    private static int failed = 0;

    private static void check(String what, Object got, Object expected) {
        boolean ok = expected == null ? got == null : expected.equals(got);
        if (ok) {
            passed++;
            System.out.println("ok - " + what);
        } else {
            failed++;
            System.out.println("FAIL - " + what + ": got " + got + ", expected " + expected);
        }
    }

    private static final String IND_OPI = "SELECT COD_IND_OPI, ADR_MAIL_OPI, COD_CLE_NNE_IND_OPI, COD_DAP, "
            + "COD_DEP_PAY_ANN_PRE_OPI, COD_DEP_PAY_ANT_IAA_OPI, COD_DEP_PAY_DER_DIP, COD_DEP_PAY_NAI, COD_ETB, "
            + "COD_ETB_ANN_CRT, COD_ETB_ANN_PRE_OPI, COD_ETB_ANT_IAA, COD_ETB_DER_DIP, COD_ETR_OPI, COD_ETU_OPI, "
            + "COD_FAM, COD_IND, COD_NNE_IND_OPI, COD_OPI_INT_EPO, COD_PAY_NAT, COD_PCS, COD_PCS_AP, COD_PRG_OPI, "
            + "COD_RGI, COD_SEX_ETU_OPI, COD_SIM, COD_SIS_ANN_PRE_OPI, COD_STU, COD_TDE_DER_DIP, COD_TDS_OPI, "
            + "COD_THB_OPI, COD_THP_OPI, COD_TPE_ANN_CRT, COD_TPE_ANT_IAA, COD_TYP_DEP_PAY_ANN_PRE_OPI, "
            + "COD_TYP_DEP_PAY_ANT_IAA_OPI, COD_TYP_DEP_PAY_DER_DIP, COD_TYP_DEP_PAY_NAI, DAA_ENS_SUP_OPI, "
            + "DAA_ENT_ETB_OPI, DAA_ETB_OPI, DAA_ETR_SUP, DAA_ETB_ANT_IAA_OPI, DAA_ETB_DER_DIP, DAA_LBT_IND_OPI, "
            + "DMM_LBT_IND_OPI, DATE_NAI_IND_OPI, DUR_EXP_PRO_EPO, LIB_NOM_PAT_IND_OPI, LIB_NOM_USU_IND_OPI, "
            + "LIB_PR1_IND_OPI, LIB_PR2_IND_OPI, LIB_PR3_IND_OPI, LIB_VIL_NAI_ETU_OPI, NB_ENF_ETU_OPI, "
            + "NUM_TEL_IND_OPI, NUM_TEL_TEMP_EPO, NUM_TEL_POR_OPI, TEM_DATE_NAI_REL_OPI, TEM_EXP_PRO_EPO, "
            + "TEM_INT_EPO, TEM_MI_TPS_EPO, TEM_PRL_ANN_CRT, TEM_SNS_PRG_OPI, TEM_TRF_ANN_CRT FROM IND_OPI WHERE ";

    /** The rows of an IND_OPI query as "codIndOpi:codOpiIntEpo", comma-separated. */
    private static String opis(PreparedStatement ps) throws Exception {
        StringBuilder sb = new StringBuilder();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                if (sb.length() > 0) {
                    sb.append(',');
                }
                // EclipseLink reads COD_IND_OPI into a long, the témoin into a String.
                sb.append(rs.getLong("COD_IND_OPI")).append(':').append(rs.getString("COD_OPI_INT_EPO"));
                String tem = rs.getString("TEM_DATE_NAI_REL_OPI");
                if (!"O".equals(tem) && !"N".equals(tem)) {
                    sb.append(":tem=").append(tem);
                }
                rs.getDate("DATE_NAI_IND_OPI");
                rs.getBigDecimal("COD_ETU_OPI");
            }
        }
        return sb.toString();
    }

    private static String bac(Connection c, Integer year, String... args) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(
                "select PKB_BAC.VERIFIER_SPECIALITES_ET_OPTIONS_BAC(?,?,?,?,?,?,?,?,?) from dual")) {
            if (year == null) {
                ps.setNull(1, Types.VARCHAR);
            } else {
                ps.setInt(1, year);
            }
            for (int i = 0; i < 8; i++) {
                String v = i < args.length ? args[i] : null;
                if (v == null) {
                    ps.setNull(i + 2, Types.VARCHAR);
                } else {
                    ps.setString(i + 2, v);
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Object v = rs.getObject(1);
                return v == null ? null : v.getClass().getSimpleName() + ":" + v;
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: EcandidatJdbc JDBC_URL USER PASSWORD COD_OPI_INT_EPO COD_IND_OPI");
            System.exit(2);
        }
        String code = args[3];
        long codIndOpi = Long.parseLong(args[4]);
        String expected = codIndOpi + ":" + code;
        try (Connection c = DriverManager.getConnection(args[0], args[1], args[2])) {
            c.setAutoCommit(true);
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select '1' from dual")) {
                rs.next();
                check("validationQuery select '1' from dual", rs.getString(1), "1");
            }
            // Q4, first form: the code sent.
            try (PreparedStatement ps = c.prepareStatement(IND_OPI + "(COD_OPI_INT_EPO = ?)")) {
                ps.setQueryTimeout(1);
                ps.setString(1, code);
                check("Q4 by code", opis(ps), expected);
            }
            // Q4, code OR INE (the merged OPI's other code finds the effective one).
            try (PreparedStatement ps = c.prepareStatement(IND_OPI
                    + "((COD_OPI_INT_EPO = ?) OR ((COD_NNE_IND_OPI = ?) AND (COD_CLE_NNE_IND_OPI = ?)))")) {
                ps.setString(1, "JVMWT75MRG");
                ps.setString(2, "3211354385");
                ps.setString(3, "T");
                check("Q4 by code or INE", opis(ps), expected);
            }
            // Q4, code OR codEtu (an integer literal).
            try (PreparedStatement ps = c.prepareStatement(IND_OPI + "((COD_OPI_INT_EPO = ?) OR (COD_ETU_OPI = ?))")) {
                ps.setString(1, "JVMWT75MRG");
                ps.setInt(2, 21912345);
                check("Q4 by code or codEtu", opis(ps), expected);
            }
            // Q5: identity, the birth date bound as a date.
            try (PreparedStatement ps = c.prepareStatement(IND_OPI
                    + "(((LIB_NOM_PAT_IND_OPI = ?) AND (LIB_PR1_IND_OPI = ?)) AND (DATE_NAI_IND_OPI = ?))")) {
                ps.setString(1, "LEGRAND-MSPYC");
                ps.setString(2, "CAMILLE");
                ps.setDate(3, java.sql.Date.valueOf("2005-03-14"));
                check("Q5 by identity", opis(ps), expected);
            }
            // Q3: the vœux, COD_IND_OPI bound as a long.
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT COD_CGE, COD_ETP, COD_VRS_VET, COD_IND_OPI FROM VOEUX_INS WHERE (COD_IND_OPI = ?) ORDER BY COD_ETP")) {
                ps.setLong(1, codIndOpi);
                StringBuilder sb = new StringBuilder();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        // eCandidat compares the decimal text of COD_VRS_VET (SQL-32).
                        sb.append(rs.getString("COD_CGE")).append('/').append(rs.getString("COD_ETP")).append('/')
                                .append(rs.getBigDecimal("COD_VRS_VET").toPlainString()).append(' ');
                    }
                }
                check("Q3 vœux", sb.toString().trim(), "CG1/ETP01/1 CG1/ETP02/1");
            }
            // N1: year as an Integer, year null, everything null.
            check("N1 year given", bac(c, 2023, "GDEM", "D001", "D002", null, "O002"), "String:OK");
            check("N1 year null", bac(c, null, "GDEM", "D001", "D002"), "String:OK");
            check("N1 all null", bac(c, null), "String:SS");
            check("N1 refused", bac(c, 2023, "GDEM", "D001", "D001"),
                    "String:La spécialité Mathématiques (démo) est choisie deux fois");
            // N4: its own transaction, values concatenated, the number unquoted.
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                int n = st.executeUpdate("DELETE FROM OPI_PJ WHERE COD_IND_OPI = " + codIndOpi + " AND COD_TPJ = 'PJ01'");
                c.commit();
                check("N4 deletes one row", n, 1);
            }
        }
        System.out.println("# " + passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
