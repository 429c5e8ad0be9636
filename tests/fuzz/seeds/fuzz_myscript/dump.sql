/*M!999999\- enable the sandbox mode */
-- dump
/*!40101 SET NAMES utf8mb4 */;
CREATE TABLE `t` (`a` int, `b``c` text) /* x; */;
INSERT INTO `t` VALUES (1,'a\';b'),(2,"q""x");
# c
DELIMITER ;;
/*!50003 CREATE*/ /*!50003 TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END */;;
DELIMITER ;
SELECT 1 -- end
